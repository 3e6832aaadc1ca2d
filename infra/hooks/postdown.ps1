# azd postdown hook (Windows): `azd down` leaves the Key Vault soft-deleted (unless --purge), and a
# soft-deleted vault keeps its name. A new KEY_VAULT_NAME_SUFFIX gives the next `azd up` a vault of
# another name, so it never meets the old one (even one under purge protection).
# Mirrors postdown.sh (Linux, macOS).
$ErrorActionPreference = 'Stop'
$suffix = -join (1..3 | ForEach-Object { '{0:x2}' -f (Get-Random -Maximum 256) })
azd env set KEY_VAULT_NAME_SUFFIX $suffix
exit $LASTEXITCODE
