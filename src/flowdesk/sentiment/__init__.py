"""What customers feel: sentiment of their words (contacts, survey comments, social posts) with
the words that drive it, stored per text by a log consumer; read by routing (a strongly
negative contact raises its work's priority), analytics and the dashboards."""
