# Semaphore's helper commands, so a pipeline imported from Semaphore runs its commands unchanged:
#   checkout [--use-cache]                         the workspace is already checked out: cd to it
#   cache restore [KEY[,FALLBACK]...]              kaizen cache restore --key KEY --fallback KEY --fallback FALLBACK...
#   cache store [KEY PATH]                         kaizen cache store --key KEY -- PATH
#   cache has_key KEY                              kaizen cache has KEY
#   cache clear | cache delete KEY                 refused with where to do it (the portal's Caches tab)
#   checksum FILE                                  the MD5 of FILE, as Semaphore prints it
#   sem-version LANGUAGE VERSION                   kaizen tool use where that version can be installed, else a clear error
#   artifact push|pull job|workflow|project PATH [-d DEST]
#   retry [--times N] [--sleep S] COMMAND...
# Every job shell has them (this file is sourced after kaizen.sh). They are bash functions, so a program of the same name
# is still reached with `command NAME`. Like `kaizen`, they hold no token and reach the runner only through `kaizen`.
# Cache keys are Kaizen's (letters, digits, '.', '_', '+', '-'): other characters of a Semaphore key (a '/' of a branch
# name) become '-', the same way in store and restore.

# The common SEMAPHORE_* variables (SEMAPHORE_GIT_BRANCH, SEMAPHORE_GIT_SHA, SEMAPHORE_WORKFLOW_ID, SEMAPHORE_JOB_ID, ...)
# are set by the runner with the job's other variables (SemaphoreVariables.cs).

checkout() {
    { local - && set +euxET +o pipefail; } 2>/dev/null || :
    while [ $# -gt 0 ]; do
        case "$1" in
            --use-cache) shift ;;
            *) echo "checkout: unknown option '$1' (the workspace is already checked out; --use-cache is accepted)" >&2; return 2 ;;
        esac
    done
    if [ -z "${KAIZEN_WORKSPACE-}" ] || ! cd -- "$KAIZEN_WORKSPACE"; then
        echo "checkout: no Kaizen workspace to go to (KAIZEN_WORKSPACE is not set)" >&2
        return 1
    fi
    echo "checkout: ${KAIZEN_COMMIT_SHA:0:12} (${KAIZEN_BRANCH-}) is already checked out in $KAIZEN_WORKSPACE"
}

# A Semaphore cache key as a Kaizen one.
_semaphore_key() {
    local key=$1
    printf '%s' "${key//[!A-Za-z0-9._+-]/-}"
}

# Semaphore's keys when `cache store` / `cache restore` get no arguments: one per lock file found in the current folder.
# Prints "KEY PATH BRANCH-PREFIX NAME-PREFIX" lines (a restore falls back to the branch's newest entry, then any branch's).
_semaphore_default_caches() {
    local branch
    branch=$(_semaphore_key "${SEMAPHORE_GIT_BRANCH:-${KAIZEN_BRANCH-}}")
    local file name path
    for entry in package-lock.json:node-modules:node_modules yarn.lock:yarn-cache:node_modules Gemfile.lock:gems:vendor/bundle \
        requirements.txt:requirements:.pip_cache composer.lock:composer:vendor mix.lock:mix-deps:deps mix.lock:mix-build:_build \
        Podfile.lock:pods:Pods; do
        file=${entry%%:*} name=${entry#*:} name=${name%%:*} path=${entry##*:}
        [ -f "$file" ] && printf '%s-%s-%s %s %s-%s- %s-\n' "$name" "$branch" "$(checksum "$file")" "$path" "$name" "$branch" "$name"
    done
}

cache() {
    { local - && set +euxET +o pipefail; } 2>/dev/null || :
    local action=${1-}
    shift 2>/dev/null
    case "$action" in
        store)
            if [ $# -eq 0 ]; then
                local key path found=''
                while read -r key path _; do
                    found=1
                    cache store "$key" "$path"
                done < <(_semaphore_default_caches)
                [ -n "$found" ] || echo "cache: no lock file found here for a default key (package-lock.json, yarn.lock, Gemfile.lock, requirements.txt, composer.lock, mix.lock, Podfile.lock); nothing stored"
                return 0
            fi
            if [ $# -ne 2 ]; then
                echo "cache store: give KEY and PATH (or nothing, for the default keys)" >&2
                return 2
            fi
            local key path=$2
            key=$(_semaphore_key "$1")
            case "$path" in "~/"*) path="$HOME/${path#"~/"}" ;; esac
            case "$path" in
                "$PWD"/*) path=${path#"$PWD"/} ;;
                /*)
                    echo "cache: $2 is outside the current folder; Kaizen caches paths inside it (cd to its parent first), not stored"
                    return 0 ;;
            esac
            kaizen cache store --key "$key" -- "$path"
            ;;
        restore)
            if [ $# -eq 0 ]; then
                local key path mine any found=''
                while read -r key path mine any; do
                    found=1
                    kaizen cache restore --key "$key" --fallback "$mine" --fallback "$any" -- "$path"
                done < <(_semaphore_default_caches)
                [ -n "$found" ] || echo "cache: no lock file found here for a default key; nothing restored"
                return 0
            fi
            local -a keys=() args=()
            local k
            IFS=, read -r -a keys <<<"$1"
            for k in "${keys[@]}"; do
                [ -n "$k" ] && args+=(--fallback "$(_semaphore_key "$k")")
            done
            if [ ${#args[@]} -eq 0 ]; then
                echo "cache restore: the key is empty" >&2
                return 2
            fi
            kaizen cache restore --key "$(_semaphore_key "${keys[0]}")" "${args[@]}" --
            ;;
        has_key)
            if [ $# -ne 1 ]; then
                echo "cache has_key: give one KEY" >&2
                return 2
            fi
            kaizen cache has "$(_semaphore_key "$1")"
            ;;
        clear | delete | list | usage | is_not_empty)
            echo "cache $action: not available in jobs; see and delete a project's caches on its Caches tab in the portal" >&2
            return 2 ;;
        *)
            echo "Usage: cache restore [KEY[,FALLBACK...]] | cache store [KEY PATH] | cache has_key KEY" >&2
            return 2 ;;
    esac
}

checksum() {
    if [ $# -ne 1 ]; then
        echo "checksum: give one FILE" >&2
        return 2
    fi
    if command -v md5sum >/dev/null 2>&1; then
        local sum
        sum=$(md5sum -- "$1") || return 1
        printf '%s\n' "${sum%% *}"
    else
        kaizen checksum "$1"
    fi
}

# `sem-version LANGUAGE VERSION`: node through npm's node package (kaizen tool use, installed once per runner); a
# language whose VERSION is the one this machine (or image) already has is used as it is; anything else fails clearly.
sem-version() {
    { local - && set +euxET +o pipefail; } 2>/dev/null || :
    local language=${1-} version=${2-}
    if [ -z "$language" ] || [ -z "$version" ]; then
        echo "Usage: sem-version LANGUAGE VERSION" >&2
        return 2
    fi
    case "$version" in *[!A-Za-z0-9._+-]* | .*)
        echo "sem-version: '$version' is not a version" >&2; return 2 ;;
    esac
    local program have=''
    case "$language" in
        node)
            if command -v npm >/dev/null 2>&1; then
                kaizen tool use node "$version" --path node_modules/.bin -- \
                    "npm install --prefix \"\$KAIZEN_TOOL_PREFIX\" --no-audit --no-fund --no-save node@$version" && node --version
                return
            fi
            program=node ;;
        python) program=python3 ;;
        ruby) program=ruby ;;
        go) program=go ;;
        php) program=php ;;
        java) program=java ;;
        *)
            echo "sem-version: $language $version is not installable here: Kaizen knows no installer for $language; install it with kaizen tool use NAME VERSION -- 'INSTALL COMMAND' or run the job in an image that has it" >&2
            return 1 ;;
    esac
    if command -v "$program" >/dev/null 2>&1; then
        case "$program" in
            go) have=$(go version 2>/dev/null) have=${have#go version go} have=${have%% *} ;;
            java) have=$(java -version 2>&1 | head -n 1) have=${have#*\"} have=${have%%\"*} ;;
            *) local first second
               read -r first second _ < <("$program" --version 2>&1)
               have=${second:-$first} ;;
        esac
        have=${have#v}
    fi
    if [ -n "$have" ] && { [ "$have" = "$version" ] || [ "${have#"$version".}" != "$have" ]; }; then
        echo "sem-version: using $language $have ($(command -v "$program"))"
        return 0
    fi
    echo "sem-version: $language $version is not installable here: ${have:+this runner has $language $have; }Kaizen installs only node versions itself; run the job in an image with $language $version (image: in the settings) or install it with kaizen tool use" >&2
    return 1
}

artifact() {
    { local - && set +euxET +o pipefail; } 2>/dev/null || :
    local action=${1-} scope=${2-} path=${3-} dest=''
    if [ $# -lt 3 ]; then
        echo "Usage: artifact push|pull job|workflow|project PATH [-d DEST]" >&2
        return 2
    fi
    shift 3
    while [ $# -gt 0 ]; do
        case "$1" in
            -d | --destination) dest=${2-}; shift 2 2>/dev/null || shift $# ;;
            -f | --force) shift ;;
            -e | --expire-in) echo "artifact: --expire-in is ignored; Kaizen keeps artifacts for the portal's retention days"; shift 2 2>/dev/null || shift $# ;;
            *) echo "artifact: unknown option '$1'" >&2; return 2 ;;
        esac
    done
    local flag
    case "$scope" in
        job) flag=--job ;;
        workflow | pipeline) flag=--build ;;
        project) flag=--project ;;
        *) echo "artifact: the scope is job, workflow or project, not '$scope'" >&2; return 2 ;;
    esac
    case "$action" in
        push)
            local name=${dest:-$path}
            name=${name#./}
            kaizen artifact push "$flag" -- "$path" "${name%/}" ;;
        pull)
            case "$scope" in
                job) echo "artifact pull job: a Kaizen job cannot pull another job's artifacts; push them with 'artifact push workflow' and pull them with 'artifact pull workflow'" >&2
                     return 2 ;;
                project) kaizen artifact pull --project "${path#./}" "${dest:-$path}" ;;
                *) kaizen artifact pull "${path#./}" "${dest:-$path}" ;;
            esac ;;
        yank) echo "artifact yank: delete artifacts in the portal (the build page or the project's Downloads tab)" >&2; return 2 ;;
        *) echo "Usage: artifact push|pull job|workflow|project PATH [-d DEST]" >&2; return 2 ;;
    esac
}

retry() {
    { local - && set +euET +o pipefail; } 2>/dev/null || :
    local times=3 pause=0
    while [ $# -gt 0 ]; do
        case "$1" in
            -t | --times) times=${2-}; shift 2 2>/dev/null || shift $# ;;
            --times=*) times=${1#--times=}; shift ;;
            -s | --sleep) pause=${2-}; shift 2 2>/dev/null || shift $# ;;
            --sleep=*) pause=${1#--sleep=}; shift ;;
            --) shift; break ;;
            *) break ;;
        esac
    done
    case "$times$pause" in *[!0-9]* | '')
        echo "retry: --times and --sleep take whole numbers" >&2; return 2 ;;
    esac
    if [ $# -eq 0 ]; then
        echo "Usage: retry [--times N] [--sleep S] COMMAND..." >&2
        return 2
    fi
    local attempt status
    for ((attempt = 1; ; attempt++)); do
        if [ $# -eq 1 ]; then eval "$1"; else "$@"; fi
        status=$?
        [ "$status" -eq 0 ] && return 0
        if [ "$attempt" -ge "$times" ]; then
            echo "retry: [$attempt/$times] failed with exit code $status; giving up" >&2
            return "$status"
        fi
        echo "retry: [$attempt/$times] failed with exit code $status; retrying in $pause s" >&2
        if [ "$pause" -gt 0 ]; then
            # `read -t` on the control folder's idle FIFO is a sleep without /bin/sleep (an image may have none).
            if [ -p "${KAIZEN_CONTROL_DIR-}/idle" ]; then read -r -t "$pause" <>"$KAIZEN_CONTROL_DIR/idle"; else sleep "$pause"; fi
        fi
    done
}
