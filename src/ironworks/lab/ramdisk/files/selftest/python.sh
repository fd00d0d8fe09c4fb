#!/bin/sh
# Self-test: the agent and the standard library modules it relies on import from the ramdisk's Python.
python3 -c '
import gzip, hashlib, http.client, json, lzma, ssl, urllib.request, zlib
import ironworks_agent.main
print("python", __import__("sys").version.split()[0], "agent", ironworks_agent.__version__)
'
