#!/bin/sh
# azd preprovision hook (Linux, macOS): stops `azd provision` / `azd up` before it creates a service that
# would refuse its default requests. A request that names no provider gets DEFAULT_PROVIDER, or, unset,
# the first configured provider (Gemini, then Azure OpenAI); that provider must be configured.
# azd passes the environment's values (`azd env set`) to the hook as environment variables.
# Mirrored by preprovision.ps1 (Windows); tests/infra/test_hooks.py runs this one and compares the two.
set -u

fail() {
  echo "preprovision: $1" >&2
  exit 1
}

gemini=false
if [ -n "${GEMINI_API_KEY:-}" ]; then
  gemini=true
fi

azure=false
if [ -n "${AZURE_OPENAI_ACCOUNT_NAME:-}" ] || [ -n "${AZURE_OPENAI_DEPLOYMENTS:-}" ]; then
  [ -n "${AZURE_OPENAI_ACCOUNT_NAME:-}" ] ||
    fail "AZURE_OPENAI_DEPLOYMENTS is set but AZURE_OPENAI_ACCOUNT_NAME is not: azd env set AZURE_OPENAI_ACCOUNT_NAME <account>"
  [ -n "${AZURE_OPENAI_DEPLOYMENTS:-}" ] ||
    fail "AZURE_OPENAI_ACCOUNT_NAME is set but AZURE_OPENAI_DEPLOYMENTS is not: azd env set AZURE_OPENAI_DEPLOYMENTS 'gpt-image-1=gpt-image'"
  old_ifs=$IFS
  IFS=,
  for pair in $AZURE_OPENAI_DEPLOYMENTS; do
    family=$(printf '%s' "${pair#*=}" | tr -d ' ')
    case "$pair" in
      *=*) ;;
      *) fail "AZURE_OPENAI_DEPLOYMENTS entry '$pair' is not deployment=family" ;;
    esac
    case "$family" in
      gpt-image | dall-e-3) ;;
      *) fail "AZURE_OPENAI_DEPLOYMENTS entry '$pair' has the family '$family'; expected gpt-image or dall-e-3" ;;
    esac
  done
  IFS=$old_ifs
  azure=true
fi

case "${DEFAULT_PROVIDER:-}" in
  "")
    [ "$gemini" = true ] || [ "$azure" = true ] ||
      fail "no image provider is configured: azd env set GEMINI_API_KEY <key>, or azd env set AZURE_OPENAI_ACCOUNT_NAME <account> and AZURE_OPENAI_DEPLOYMENTS <deployment=family>"
    ;;
  gemini)
    [ "$gemini" = true ] ||
      fail "DEFAULT_PROVIDER is gemini but GEMINI_API_KEY is not set: azd env set GEMINI_API_KEY <key>"
    ;;
  azure-openai)
    [ "$azure" = true ] ||
      fail "DEFAULT_PROVIDER is azure-openai but AZURE_OPENAI_ACCOUNT_NAME is not set: azd env set AZURE_OPENAI_ACCOUNT_NAME <account> and AZURE_OPENAI_DEPLOYMENTS <deployment=family>"
    ;;
  *)
    fail "DEFAULT_PROVIDER is '$DEFAULT_PROVIDER'; expected gemini, azure-openai, or unset for the first configured provider"
    ;;
esac
