"""The e-mail channel: parsing, threading, loop protection, inbound (IMAP, SMTP, pipe) and outbound."""
