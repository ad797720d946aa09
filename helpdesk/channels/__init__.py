"""How tickets arrive and answers leave: e-mail (web intake lives in helpdesk.web and the API)."""
