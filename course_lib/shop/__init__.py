"""The sample app the course builds on: an order shop (events, commands, the ``Order`` aggregate, simulated
services, its saga, projections and choreography). The generic packages never import it; it imports them."""
