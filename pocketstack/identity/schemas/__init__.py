"""The identity API's request models and response views, one module per resource."""
