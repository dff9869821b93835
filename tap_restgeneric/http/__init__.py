"""HTTP: authenticators, credentials kept to their origins, the requester, limits and prefetch."""
