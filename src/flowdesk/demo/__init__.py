"""The demo company's traffic: customers and a history of cases worked by agents."""
