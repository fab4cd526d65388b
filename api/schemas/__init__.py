"""Request and response bodies: amounts are yuan strings, dates YYYY-MM-DD, ids as given."""
