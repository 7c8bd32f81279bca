"""Resource kinds this tool manages: each a package of models, canonical form and planning."""
