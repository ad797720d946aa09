"""The help desk's side of field service: tickets for ``dispatch``, notes and mail for its work orders."""
