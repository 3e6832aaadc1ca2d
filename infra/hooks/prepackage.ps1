# azd prepackage hook of the api service (Windows): compiles the app's own modules (function_app.py and
# the shared package) so that their bytecode ships in the deployment package. Flex Consumption runs the
# app from a read-only package, where Python cannot cache what it compiles: without this every cold start
# compiles them again (about 0.2 s CPU on the development machine, docs/performance.md). The bytecode is
# checked-hash: Python checks it against a hash of the source rather than its timestamp, so it stays valid
# whatever times zip, upload and unpacking give the files; -f rewrites the bytecode a local run left
# timestamp-based.
# The interpreter must be of the Function App's Python (its runtime version in infra/app/function.bicep; a
# test compares the two): bytecode carries its interpreter's cache tag (cpython-313), and another
# version's is ignored. .funcignore ships only that tag's bytecode.
# Without such an interpreter the hook warns, naming what to install, and the deploy goes on: the app works
# without its bytecode, only its cold starts are slower. Anything else that fails (a module that does not
# compile, a file that cannot be written) stops the deploy.
# azd runs service hooks in the service's directory (`project: .`, this repository's root).
# Mirrors prepackage.sh (Linux, macOS); tests/infra/test_hooks.py compares the two.
$ErrorActionPreference = 'Stop'

$version = '3.13'

function Warn([string] $message) {
  [Console]::Error.WriteLine("prepackage: $message")
}

function Fail([string] $message) {
  [Console]::Error.WriteLine("prepackage: $message")
  exit 1
}

if (-not (Test-Path -PathType Leaf 'function_app.py') -or -not (Test-Path -PathType Container 'shared')) {
  Fail "function_app.py and shared/ are not in the working directory: run the hook from the api service's directory"
}

# The project's own environment first (`make install` builds it with Python 3.13), then the py launcher
# and PATH.
$candidates = @(
  @{ Command = (Join-Path $PWD '.venv\Scripts\python.exe'); Arguments = @() },
  @{ Command = 'py'; Arguments = @("-$version") },
  @{ Command = "python$version"; Arguments = @() },
  @{ Command = 'python3'; Arguments = @() },
  @{ Command = 'python'; Arguments = @() }
)
$python = $null
foreach ($candidate in $candidates) {
  if (-not (Get-Command $candidate.Command -ErrorAction SilentlyContinue)) {
    continue
  }
  $check = $candidate.Arguments + @('-c', "import sys; sys.exit(sys.version_info[:2] != ($($version.Replace('.', ', '))))")
  & $candidate.Command @check *> $null
  if ($LASTEXITCODE -eq 0) {
    $python = $candidate
    break
  }
}

if ($null -eq $python) {
  Warn "no Python $version found (.venv, python$version, python3, python; py -$version on Windows): the package ships without the app's bytecode, so each cold start in Azure compiles it. Install Python $version (or run make install) and package again"
  exit 0
}

# Bytecode goes next to the source, where the runtime looks, not to a cache of this machine's.
Remove-Item Env:PYTHONPYCACHEPREFIX -ErrorAction SilentlyContinue
$compile = $python.Arguments + @('-m', 'compileall', '-q', '-f', '--invalidation-mode', 'checked-hash', 'function_app.py', 'shared')
& $python.Command @compile
if ($LASTEXITCODE -ne 0) {
  Fail "compiling function_app.py and shared/ with Python $version failed (the errors are above)"
}
Write-Output "prepackage: compiled function_app.py and shared/ with $($python.Command) (Python $version, checked-hash bytecode)"
exit 0
