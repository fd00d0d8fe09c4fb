"""What the IPMI and Redfish drivers share: timeouts, retries, per-BMC concurrency, power verification."""
