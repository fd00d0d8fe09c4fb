"""Hardware access: block devices, inventory, root device hints, erase, image write, config drive."""
