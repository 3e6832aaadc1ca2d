#!/bin/sh
# azd postdown hook (Linux, macOS): `azd down` leaves the Key Vault soft-deleted (unless --purge), and a
# soft-deleted vault keeps its name. A new KEY_VAULT_NAME_SUFFIX gives the next `azd up` a vault of
# another name, so it never meets the old one (even one under purge protection).
# Mirrored by postdown.ps1 (Windows).
set -eu
suffix=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
azd env set KEY_VAULT_NAME_SUFFIX "$suffix"
