"""Channel adapters: email in (SMTP server, IMAP polling) and out (SMTP), JSON webhooks of
phone, chat, SMS, web, social, letter/fax, counter and app, and notifications out."""
