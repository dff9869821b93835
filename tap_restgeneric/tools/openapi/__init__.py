"""``restgeneric import-openapi``: an OpenAPI 3.0/3.1 or Swagger 2.0 document → a tap config."""
