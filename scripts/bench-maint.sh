#!/bin/bash
echo "bench-maint: not written yet" >&2
