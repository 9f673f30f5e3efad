"""webstack's reusable components: network, storage, database and app hosting."""
