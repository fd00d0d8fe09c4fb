"""Network boot: dnsmasq (DHCP + TFTP) configuration and supervision, iPXE scripts, and the HTTP boot files.

``dnsmasq`` renders the configuration and per-MAC host files; ``supervisor`` runs dnsmasq (and the file server)
as supervised child processes; ``ipxe`` renders per-node iPXE scripts from ``templates/``; ``files`` owns the
layout of the HTTP and TFTP roots; ``httpd`` is the static HTTP server (ranges, sendfile) the conductor starts on
the provisioning network. See docs/netboot.md.
"""
