"""Config drives: network_data.json generation (pure) and config-2 images for cloud-init."""
