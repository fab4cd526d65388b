"""The read models, one module each: its tables, its handlers and its queries. A handler reads and
writes its own model's rows only; a query may read other models' tables through their queries."""
