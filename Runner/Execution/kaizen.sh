# kaizen: the commands of Kaizen jobs.
#
# The runner sources this file into every job's shell before the first command, so build settings can say
#   kaizen cache restore NAME KEYFILE... -- PATH...
#   kaizen cache store   NAME KEYFILE... -- PATH...
#   kaizen tool use NAME VERSION [--path DIR]... -- INSTALL COMMAND...
#   kaizen artifact push [--build|--job|--project] PATH [NAME]
#   kaizen artifact pull [--project] [--wait SECONDS] NAME [DEST]
# as plain, timed, visible commands (`kaizen help` lists them all). `kaizen` is a function (not a program) because
# `tool use` changes PATH in the job's own shell.
#
# Caches, checksums and artifacts are the runner's work, in C# (Runner/Execution/Calls): this function only forwards
# its arguments and directory over the FIFO of the job's control folder (KAIZEN_CONTROL_DIR, shown at its host path)
# and prints the answer. The job holds no token for the portal and sees no cache folder; the runner reads and writes
# the job's files in a sandbox that shows them as the job sees them. A tool's install command is the job's own code: it
# runs in a sandbox of its own (the tools folder writable, no token) when the runner says so, else in this shell.
# Only bash builtins are needed, so the same file works on the host and inside any container.

kaizen() {
    # The caller's `set -e/-u/-x/-o pipefail` must neither trip nor trace our internals; `local -` restores them on return.
    { local - && set +euxET +o pipefail; } 2>/dev/null || :
    case "${1-}" in
        tool) shift; _kaizen_tool "$@" ;;
        *) _kaizen_forward "$@" ;;
    esac
}

# `run-script NAME[@VERSION] ARGS` lines are shared scripts: the portal attaches the script to the job and the runner
# runs it in place of the line. A line the portal could not resolve (the script was not in the library when the build
# was created) reaches the shell as it is, and says so here instead of "command not found".
run-script() {
    echo "run-script: script '${1-}' is not attached to this job: it was not in the script library when the build was created (see the portal's Scripts page)." >&2
    return 127
}

_kaizen_usage() {
    if [ -n "${KAIZEN_CONTROL_DIR-}" ]; then
        _kaizen_forward help
    else
        echo 'Usage: kaizen cache|checksum|artifact|tool|help ... (`kaizen help` in a Kaizen job lists them)'
    fi
}

# Microseconds since the epoch (EPOCHREALTIME's decimal point depends on the locale, hence the digits only).
_kaizen_now() {
    if [ -n "${EPOCHREALTIME-}" ]; then printf '%s' "${EPOCHREALTIME//[!0-9]/}"; else printf '%s000000' "$(date +%s)"; fi
}

# "40 ms" / "2.4 s" for the time since $1 (from _kaizen_now).
_kaizen_elapsed() {
    local micros=$(($(_kaizen_now) - $1))
    if [ "$micros" -lt 999500 ]; then
        printf '%d ms' $(((micros + 500) / 1000))
    else
        local tenths=$(((micros + 50000) / 100000))
        printf '%d.%d s' $((tenths / 10)) $((tenths % 10))
    fi
}

_kaizen_valid_name() {
    case "$1" in '' | *[!A-Za-z0-9._+-]* | .*) return 1 ;; esac
}

# Asks the runner: ID, directory, argument count and arguments, NUL-separated, into the requests FIFO; then prints the
# answer streamed through the FIFO ID.out and returns the exit code from ID.status.
_kaizen_forward() {
    if [ -z "${KAIZEN_CONTROL_DIR-}" ]; then
        echo "kaizen: this shell is not a Kaizen job's (KAIZEN_CONTROL_DIR is not set); the runner answers kaizen ${1-} calls" >&2
        return 2
    fi
    local dir=$KAIZEN_CONTROL_DIR id="$BASHPID.$RANDOM$RANDOM" status='' line=''
    printf '%s\0' "$id" "$PWD" "$#" "$@" >>"$dir/requests" || return 1
    # Wait for the host's answer; `read -t` on a FIFO nobody writes to is a sleep without /bin/sleep.
    while [ ! -p "$dir/$id.out" ]; do read -r -t 0.01 <>"$dir/idle"; done
    if command -v cat >/dev/null 2>&1; then
        cat -- "$dir/$id.out"
    else
        while IFS= read -r line || [ -n "$line" ]; do printf '%s\n' "$line"; line=''; done <"$dir/$id.out"
    fi
    read -r status <"$dir/$id.status" 2>/dev/null
    rm -f -- "$dir/$id.out" "$dir/$id.status" 2>/dev/null
    return "${status:-1}"
}

_kaizen_tool() {
    if [ "${1-}" != use ]; then
        _kaizen_usage >&2
        return 2
    fi
    shift
    local name=${1-} version=${2-}
    shift 2 2>/dev/null || shift $#
    local -a dirs=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        case "$1" in
            --path) dirs+=("${2-}"); shift 2 2>/dev/null || shift $# ;;
            --path=*) dirs+=("${1#--path=}"); shift ;;
            *) echo "tool: unknown option '$1'" >&2; _kaizen_usage >&2; return 2 ;;
        esac
    done
    if [ "${1-}" != -- ] || [ $# -lt 2 ]; then
        echo "tool: '--' and the install command are missing" >&2
        _kaizen_usage >&2
        return 2
    fi
    shift
    if ! _kaizen_valid_name "$name" || ! _kaizen_valid_name "$version"; then
        echo "tool: '$name' '$version' is not a valid tool name and version (letters, digits, '.', '_', '+', '-')" >&2
        return 2
    fi
    if [ -z "${KAIZEN_TOOLS_DIR-}" ]; then
        echo "tool: KAIZEN_TOOLS_DIR is not set" >&2
        return 2
    fi
    [ ${#dirs[@]} -eq 0 ] && dirs=(bin)

    local prefix="$KAIZEN_TOOLS_DIR/$name/$version" status
    if [ -f "$prefix/.kaizen-installed" ]; then
        echo "tool: $name $version already installed, reusing it"
    else
        local install
        printf -v install '%s ' "$@"
        (_kaizen_tool_install "$name" "$version" "$prefix" "${install% }")
        status=$?
        [ "$status" -ne 0 ] && return "$status"
    fi

    # In this shell, so the job's next commands find the tool. First --path first.
    local i entry
    for ((i = ${#dirs[@]} - 1; i >= 0; i--)); do
        entry="$prefix/${dirs[i]}"
        entry=${entry%/}
        case ":$PATH:" in *":$entry:"*) ;; *) PATH="$entry:$PATH" ;; esac
    done
    export PATH
    hash -r
    return 0
}

# The install is the runner's work (Runner/Execution/Calls/ToolInstall.cs): one at a time per tool and version, the
# marker that says it finished, the install command run in the tool's folder (in a sandbox of its own when jobs are).
_kaizen_tool_install() {
    if [ -z "${KAIZEN_CONTROL_DIR-}" ]; then
        echo "tool: no runner to install $1 $2 (KAIZEN_CONTROL_DIR is not set)"
        return 1
    fi
    _kaizen_forward tool use "$1" "$2" -- "$4"
}
