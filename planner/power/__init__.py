"""Power models the sizing uses: battery chain, UPS, required runtime."""
