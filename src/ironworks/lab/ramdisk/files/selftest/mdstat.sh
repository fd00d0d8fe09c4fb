#!/bin/sh
# Diagnostic: print the md arrays the kernel knows (udev assembles leftover arrays during coldplug).
cat /proc/mdstat
