"""Server-rendered pages: the customer portal, tracking pages (the agent console comes later)."""
