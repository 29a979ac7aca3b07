"""Communications: the mail outbox, SMTP sending, templates."""
