"""Field service: technicians, assets and warranty, work orders, day planning."""
