"""Operations of a route, the one concept routings (the template) and work orders (the copy on
the floor) share: their columns, validation, precedence graph, writing and copying, the editor
form and the API schema. Routings and orders build on this package; it knows neither."""
