"""Records and schemas: data selectors, inference, declared schemas, drift, cursor values."""
