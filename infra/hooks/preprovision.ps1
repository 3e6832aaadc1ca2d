# azd preprovision hook (Windows): stops `azd provision` / `azd up` before it creates a service that
# would refuse its default requests. A request that names no provider gets DEFAULT_PROVIDER, or, unset,
# the first configured provider (Gemini, then Azure OpenAI); that provider must be configured.
# azd passes the environment's values (`azd env set`) to the hook as environment variables.
# Mirrors preprovision.sh (Linux, macOS); tests/infra/test_hooks.py compares the two.
$ErrorActionPreference = 'Stop'

function Fail([string] $message) {
  [Console]::Error.WriteLine("preprovision: $message")
  exit 1
}

$gemini = -not [string]::IsNullOrEmpty($env:GEMINI_API_KEY)

$azure = $false
if (-not [string]::IsNullOrEmpty($env:AZURE_OPENAI_ACCOUNT_NAME) -or -not [string]::IsNullOrEmpty($env:AZURE_OPENAI_DEPLOYMENTS)) {
  if ([string]::IsNullOrEmpty($env:AZURE_OPENAI_ACCOUNT_NAME)) {
    Fail "AZURE_OPENAI_DEPLOYMENTS is set but AZURE_OPENAI_ACCOUNT_NAME is not: azd env set AZURE_OPENAI_ACCOUNT_NAME <account>"
  }
  if ([string]::IsNullOrEmpty($env:AZURE_OPENAI_DEPLOYMENTS)) {
    Fail "AZURE_OPENAI_ACCOUNT_NAME is set but AZURE_OPENAI_DEPLOYMENTS is not: azd env set AZURE_OPENAI_DEPLOYMENTS 'gpt-image-1=gpt-image'"
  }
  foreach ($pair in $env:AZURE_OPENAI_DEPLOYMENTS.Split(',')) {
    if (-not $pair.Contains('=')) {
      Fail "AZURE_OPENAI_DEPLOYMENTS entry '$pair' is not deployment=family"
    }
    $family = $pair.Substring($pair.IndexOf('=') + 1).Replace(' ', '')
    if ($family -ne 'gpt-image' -and $family -ne 'dall-e-3') {
      Fail "AZURE_OPENAI_DEPLOYMENTS entry '$pair' has the family '$family'; expected gpt-image or dall-e-3"
    }
  }
  $azure = $true
}

switch ("$env:DEFAULT_PROVIDER") {
  '' {
    if (-not $gemini -and -not $azure) {
      Fail "no image provider is configured: azd env set GEMINI_API_KEY <key>, or azd env set AZURE_OPENAI_ACCOUNT_NAME <account> and AZURE_OPENAI_DEPLOYMENTS <deployment=family>"
    }
  }
  'gemini' {
    if (-not $gemini) {
      Fail "DEFAULT_PROVIDER is gemini but GEMINI_API_KEY is not set: azd env set GEMINI_API_KEY <key>"
    }
  }
  'azure-openai' {
    if (-not $azure) {
      Fail "DEFAULT_PROVIDER is azure-openai but AZURE_OPENAI_ACCOUNT_NAME is not set: azd env set AZURE_OPENAI_ACCOUNT_NAME <account> and AZURE_OPENAI_DEPLOYMENTS <deployment=family>"
    }
  }
  default {
    Fail "DEFAULT_PROVIDER is '$env:DEFAULT_PROVIDER'; expected gemini, azure-openai, or unset for the first configured provider"
  }
}
exit 0
