# Sourced by the scripts that need Node.js: installs Debian's nodejs and npm when missing.
ensure_node() {
    if command -v node >/dev/null && command -v npm >/dev/null; then
        return
    fi
    echo "installing Node.js and npm (Debian packages)"
    local sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm
}

# npm ci, unless node_modules is already installed from the current lock file.
npm_install() {
    local dir="$1"
    if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}
