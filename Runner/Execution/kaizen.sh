# kaizen: the cache and tool commands of Kaizen jobs.
#
# The runner sources this file into every job's shell before the first command, so build settings can say
#   kaizen cache restore NAME KEYFILE... -- PATH...
#   kaizen cache store   NAME KEYFILE... -- PATH...
#   kaizen tool use NAME VERSION [--path DIR]... -- INSTALL COMMAND...
#   kaizen artifact push [--build|--job|--project] PATH [NAME]
#   kaizen artifact pull [--project] [--wait SECONDS] NAME [DEST]
# as plain, timed, visible commands. `kaizen` is a function (not a program) because `tool use` changes PATH in the
# job's own shell. Pure bash (4.4+) with coreutils and tar (zstd when present, else gzip; flock for tools), so the
# same file works on the host and inside a container. Uses KAIZEN_CACHE_DIR, KAIZEN_TOOLS_DIR, KAIZEN_CACHE_MAX_MB;
# `artifact` also needs curl, KAIZEN_PORTAL_URL and KAIZEN_JOB_TOKEN (the job's own token, valid while it runs), and
# with those two set `cache` stores and restores through the portal (shared by all runners; KAIZEN_CACHE_DIR then
# keeps this runner's copies), else in KAIZEN_CACHE_DIR alone.

kaizen() {
    # The caller's `set -e/-u/-x/-o pipefail` must neither trip nor trace our internals; `local -` restores them on return.
    { local - && set +euxET +o pipefail; } 2>/dev/null || :
    case "${1-}" in
        cache) shift; (_kaizen_cache "$@") ;;
        tool) shift; _kaizen_tool "$@" ;;
        checksum) shift; (_kaizen_checksum "$@") ;;
        artifact) shift; (_kaizen_artifact "$@") ;;
        help | -h | --help) _kaizen_usage ;;
        *) _kaizen_usage >&2; return 2 ;;
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
    cat <<'EOF'
Usage:
  kaizen cache restore NAME KEYFILE... -- PATH...   restore PATH... from the cache entry NAME-<checksum of KEYFILE...>,
                                                    or from the newest NAME-* entry when that one is missing
  kaizen cache store NAME KEYFILE... -- PATH...     store PATH... as NAME-<checksum of KEYFILE...> unless it exists
  kaizen cache restore|store [--fallback PREFIX]... --key 'deps-{{ checksum "yarn.lock" }}' -- PATH...
                                                    the same with a key template; restore tries the key, then each
                                                    PREFIX in turn (that key, or the newest key starting with it)
  kaizen tool use NAME VERSION [--path DIR]... -- INSTALL...
                                                    install once per runner (INSTALL runs in the tool's folder,
                                                    $KAIZEN_TOOL_PREFIX), then put its DIRs (default: bin) on PATH
  kaizen checksum KEYFILE...                        print the checksum a cache key uses
  kaizen artifact push [--build|--job|--project] PATH [NAME]
                                                    publish a file (or a folder, packed as .tar.gz) as an artifact of
                                                    the build (default), the job, or the project's downloads
  kaizen artifact pull [--project] [--wait SECONDS] NAME [DEST]
                                                    fetch a build artifact (waiting up to SECONDS, default 600, while
                                                    other jobs of the build may still push it) or a project download
  kaizen help                                       this text
PATHs are relative to the current directory. Caches are the portal's (shared by all runners) inside Kaizen jobs, a
local folder elsewhere. A cache miss, a broken entry or an unreachable portal never fails the command.
EOF
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

# "12.3 MB" / "512 KB" for a file's size.
_kaizen_size() {
    local bytes
    bytes=$(stat -c %s -- "$1" 2>/dev/null) || bytes=0
    if [ "$bytes" -lt 1048576 ]; then
        printf '%d KB' $(((bytes + 1023) / 1024))
    else
        local tenths=$(((bytes * 10 + 524288) / 1048576))
        printf '%d.%d MB' $((tenths / 10)) $((tenths % 10))
    fi
}

# The first 16 hex digits of a SHA-256 over the files' contents, in the order given; a missing file counts as its
# name and "missing", so adding the file later changes the key.
_kaizen_checksum() {
    local file sum
    sum=$(for file in "$@"; do
        if [ -f "$file" ]; then sha256sum <"$file"; else printf '%s missing\n' "$file"; fi
    done | sha256sum) || return 1
    printf '%s\n' "${sum:0:16}"
}

_kaizen_valid_name() {
    case "$1" in '' | *[!A-Za-z0-9._+-]* | .*) return 1 ;; esac
}

# Compression: zstd when installed (fast, multi-threaded), else gzip. Entries of both kinds restore wherever the
# tool for them exists.
_kaizen_compressor() {
    if command -v zstd >/dev/null 2>&1; then echo zst; else echo gz; fi
}

_kaizen_compress() {
    case "$1" in zst) zstd -q -T0 -c ;; *) gzip -c ;; esac
}

_kaizen_decompress() {
    case "$1" in *.zst) zstd -q -d -c -- "$1" ;; *) gzip -d -c -- "$1" ;; esac
}

_kaizen_can_read() {
    case "$1" in *.zst) command -v zstd >/dev/null 2>&1 ;; *.gz) command -v gzip >/dev/null 2>&1 ;; *) return 1 ;; esac
}

# The stored archive of a key, if any (and readable here).
_kaizen_entry() {
    local archive
    for archive in "$KAIZEN_CACHE_DIR/$1.tar.zst" "$KAIZEN_CACHE_DIR/$1.tar.gz"; do
        if [ -f "$archive" ] && _kaizen_can_read "$archive"; then
            printf '%s\n' "$archive"
            return 0
        fi
    done
    return 1
}

# The most recently stored or restored entry whose file name matches the glob PATTERN (restores touch their entry).
_kaizen_newest_entry() {
    local file
    # Names are restricted to [A-Za-z0-9._+-], so ls output is safe to read line by line.
    while IFS= read -r file; do
        if _kaizen_can_read "$file"; then
            printf '%s\n' "$KAIZEN_CACHE_DIR/$file"
            return 0
        fi
    done < <(cd -- "$KAIZEN_CACHE_DIR" 2>/dev/null && ls -t -- $1 2>/dev/null)
    return 1
}

# "NAME-1a2b3c4d5e6f7a8b" from an archive path.
_kaizen_key_of() {
    local base=${1##*/}
    printf '%s' "${base%.tar.*}"
}

_kaizen_cache() {
    set -o pipefail
    local action=${1-}
    if [ "$action" != restore ] && [ "$action" != store ]; then
        _kaizen_usage >&2
        exit 2
    fi
    shift
    local template='' name='' opt
    local -a fallbacks=() keyfiles=() paths=()
    while [ $# -gt 0 ]; do
        case "$1" in
            --key | --fallback)
                opt=$1
                if [ $# -lt 2 ]; then echo "cache: $opt needs a value" >&2; exit 2; fi
                if [ "$opt" = --key ]; then template=$2; else fallbacks+=("$2"); fi
                shift 2 ;;
            --key=*) template=${1#--key=}; shift ;;
            --fallback=*) fallbacks+=("${1#--fallback=}"); shift ;;
            *) break ;;
        esac
    done
    if [ -z "$template" ]; then
        name=${1-}
        shift 2>/dev/null || :
    fi
    while [ $# -gt 0 ] && [ "$1" != -- ]; do keyfiles+=("$1"); shift; done
    if [ "${1-}" != -- ]; then
        echo "cache: '--' and the paths to $action are missing" >&2
        _kaizen_usage >&2
        exit 2
    fi
    shift
    paths=("$@")
    if [ -n "$template" ] && [ ${#keyfiles[@]} -gt 0 ]; then
        echo "cache: with --key, name the key files inside the key: --key 'deps-{{ checksum \"yarn.lock\" }}'" >&2
        exit 2
    fi
    if [ -z "$template" ] && ! _kaizen_valid_name "$name"; then
        echo "cache: '$name' is not a valid cache name (letters, digits, '.', '_', '+', '-')" >&2
        exit 2
    fi
    if [ ${#paths[@]} -eq 0 ]; then
        echo "cache: no paths to $action" >&2
        exit 2
    fi
    local path
    for path in "${paths[@]}"; do
        case "/$path/" in
            //*) echo "cache: '$path' is absolute; cache paths are relative to the current directory" >&2; exit 2 ;;
            */../*) echo "cache: '$path' leaves the current directory; cache paths must stay inside it" >&2; exit 2 ;;
        esac
    done

    local key sum
    if [ -n "$template" ]; then
        key=$(_kaizen_expand_key "$template") || exit 2
        # The cache's name (for the portal's figures) is the key's text before its first {{ }}.
        name=${template%%'{{'*}
        name=${name%%[-_.+ ]}
        [ "$name" != "$template" ] || name=''
        if ! _kaizen_valid_name "$key"; then
            echo "cache: '$key' is not a valid cache key (letters, digits, '.', '_', '+', '-')" >&2
            exit 2
        fi
    else
        sum=$(_kaizen_checksum "${keyfiles[@]}") || { echo "cache: could not compute the key of $name"; exit 0; }
        key="$name-$sum"
    fi
    local fallback
    for fallback in "${fallbacks[@]}"; do
        if ! _kaizen_valid_name "$fallback"; then
            echo "cache: '$fallback' is not a valid fallback key (letters, digits, '.', '_', '+', '-')" >&2
            exit 2
        fi
    done

    # Stored by the portal and shared by all its runners when the job has one; a runner folder otherwise (a shell
    # outside Kaizen, or a runner without a portal).
    if [ -n "${KAIZEN_PORTAL_URL-}" ] && [ -n "${KAIZEN_JOB_TOKEN-}" ]; then
        if ! command -v curl >/dev/null 2>&1; then
            echo "cache: warning: caches need curl, and it is not installed; continuing without a cache"
            exit 0
        fi
        # Without zstd (a minimal container image) the portal compresses and decompresses: same archives, more bytes sent.
        _KAIZEN_PLAIN=''
        command -v zstd >/dev/null 2>&1 || _KAIZEN_PLAIN=1
        _KAIZEN_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kaizen-cache.XXXXXX") || exit 0
        trap 'rm -rf -- "$_KAIZEN_TMP"' EXIT
        "_kaizen_remote_$action" "$key" "$name" "${#fallbacks[@]}" "${fallbacks[@]}" "${paths[@]}"
        return 0
    fi
    if [ -z "${KAIZEN_CACHE_DIR-}" ]; then
        echo "cache: KAIZEN_CACHE_DIR is not set" >&2
        exit 2
    fi
    # Without fallbacks of its own, a classic NAME KEYFILE... restore falls back to the newest NAME-<checksum>.
    if [ -z "$template" ] && [ ${#fallbacks[@]} -eq 0 ]; then
        local hex='[0-9a-f]'
        fallbacks=("$name-$hex$hex$hex$hex$hex$hex$hex$hex$hex$hex$hex$hex$hex$hex$hex$hex.tar.*")
    else
        for ((i = 0; i < ${#fallbacks[@]}; i++)); do fallbacks[i]="${fallbacks[i]}*.tar.*"; done
    fi
    "_kaizen_cache_$action" "$key" "${#fallbacks[@]}" "${fallbacks[@]}" "${paths[@]}"
}

# A --key template with its {{ checksum "FILE"... }} parts replaced by the checksum of those files.
_kaizen_expand_key() {
    local rest=$1 out='' inner word
    local -a words files
    while [[ $rest == *'{{'* ]]; do
        out+=${rest%%'{{'*}
        rest=${rest#*'{{'}
        if [[ $rest != *'}}'* ]]; then
            echo "cache: '{{' without '}}' in the key '$1'" >&2
            return 1
        fi
        inner=${rest%%'}}'*}
        rest=${rest#*'}}'}
        read -r -a words <<<"$inner"
        if [ "${words[0]-}" != checksum ] || [ ${#words[@]} -lt 2 ]; then
            echo "cache: '{{$inner}}' in the key: only {{ checksum \"FILE\"... }} is known" >&2
            return 1
        fi
        files=()
        for word in "${words[@]:1}"; do
            word=${word#[\"\']}
            files+=("${word%[\"\']}")
        done
        out+=$(_kaizen_checksum "${files[@]}") || return 1
    done
    printf '%s' "$out$rest"
}

_kaizen_cache_restore() {
    local key=$1 count=$2
    shift 2
    local -a patterns=("${@:1:count}")
    shift "$count"
    local started archive message pattern
    started=$(_kaizen_now)
    if archive=$(_kaizen_entry "$key"); then
        message="restored $key"
    else
        for pattern in "${patterns[@]}"; do
            archive=$(_kaizen_newest_entry "$pattern") && break
        done
        if [ -z "$archive" ]; then
            echo "cache: miss for $key (nothing stored yet)"
            return 0
        fi
        message="no entry for $key, restored the newest $(_kaizen_key_of "$archive") instead"
    fi

    if _kaizen_decompress "$archive" | tar -xf -; then
        touch -c -- "$archive" 2>/dev/null
        echo "cache: $message ($(_kaizen_size "$archive")) in $(_kaizen_elapsed "$started")"
    else
        # A half-extracted tree is worse than none: the job's install step starts clean instead. The broken entry goes,
        # so the next passing job stores a good one.
        local path
        for path in "$@"; do rm -rf -- "./$path"; done
        rm -f -- "$archive"
        echo "cache: warning: could not restore $(_kaizen_key_of "$archive") (broken archive); removed it and continuing without a cache"
    fi
    return 0
}

# Fills the caller's array "present" with the PATHs that exist (as ./PATH, so none reads as an option) and names the
# missing ones; fails when none exists.
_kaizen_present_paths() {
    local path
    for path in "$@"; do
        if [ -e "$path" ] || [ -L "$path" ]; then
            present+=("./${path#./}")
        else
            echo "cache: $path does not exist, not stored"
        fi
    done
    [ ${#present[@]} -gt 0 ]
}

_kaizen_cache_store() {
    local key=$1 count=$2
    shift $((2 + count))
    local archive
    if archive=$(_kaizen_entry "$key"); then
        echo "cache: $key already stored, skipping"
        return 0
    fi

    local -a present=()
    _kaizen_present_paths "$@" || { echo "cache: nothing to store for $key"; return 0; }

    local started kind tmp
    started=$(_kaizen_now)
    kind=$(_kaizen_compressor)
    if ! mkdir -p -- "$KAIZEN_CACHE_DIR" || ! tmp=$(mktemp "$KAIZEN_CACHE_DIR/.$key.XXXXXX.tmp"); then
        echo "cache: warning: cannot write to $KAIZEN_CACHE_DIR; $key not stored"
        return 0
    fi
    if ! tar -cf - "${present[@]}" | _kaizen_compress "$kind" >"$tmp"; then
        rm -f -- "$tmp"
        echo "cache: warning: could not archive $key; not stored"
        return 0
    fi
    chmod 644 -- "$tmp" 2>/dev/null
    # The rename is atomic: a concurrent job storing the same key leaves one complete archive either way.
    archive="$KAIZEN_CACHE_DIR/$key.tar.$kind"
    if ! mv -f -- "$tmp" "$archive"; then
        rm -f -- "$tmp"
        echo "cache: warning: could not move $key into place; not stored"
        return 0
    fi
    echo "cache: stored $key ($(_kaizen_size "$archive")) in $(_kaizen_elapsed "$started")"
    _kaizen_cache_evict "$archive"
}

# Keeps the cache folder under KAIZEN_CACHE_MAX_MB (default 10240) by removing the least recently used entries, never
# the one just stored; also sweeps temp files that killed jobs left behind.
_kaizen_cache_evict() {
    local keep=$1 quiet=${2-} max_mb=${KAIZEN_CACHE_MAX_MB:-10240}
    case "$max_mb" in '' | *[!0-9]*) max_mb=10240 ;; esac
    find "$KAIZEN_CACHE_DIR" -maxdepth 1 -name '.*.tmp' -mmin +120 -exec rm -f -- {} + 2>/dev/null
    local total=0 size archive
    local -a entries=()
    while read -r size archive; do
        entries+=("$archive")
        total=$((total + size))
    done < <(cd -- "$KAIZEN_CACHE_DIR" && ls -t -r -- *.tar.* 2>/dev/null | while IFS= read -r archive; do
        printf '%s %s\n' "$(stat -c %s -- "$archive" 2>/dev/null || echo 0)" "$KAIZEN_CACHE_DIR/$archive"
    done)
    local limit=$((max_mb * 1048576))
    for archive in "${entries[@]}"; do
        [ "$total" -le "$limit" ] && break
        [ "$archive" = "$keep" ] && continue
        size=$(stat -c %s -- "$archive" 2>/dev/null) || continue
        rm -f -- "$archive" && total=$((total - size)) && [ -z "$quiet" ] && echo "cache: evicted $(_kaizen_key_of "$archive") to stay under $max_mb MB"
    done
    return 0
}

# ---- caches stored by the portal, shared by all its runners ----
#
# Archives stream straight through: `tar | zstd | curl -T -` up, `curl | zstd -d | tar -x` down, with no temporary
# copy on the runner or in the portal (which stores and serves the zstd bytes as they are). Native tar and a
# multi-threaded zstd are the fastest tools for this on any runner, and plain pipes keep it working inside containers
# too. An upload ends with a mark (a zstd skippable frame, which decoders pass over) only when tar and zstd both
# succeeded: the portal stores nothing without it, so a failing tar or a dropped connection never leaves a broken
# entry under a key that cannot be written again.

# The key's URL, with QUERY appended.
_kaizen_cache_url() {
    printf '%s/api/jobs/caches/%s%s' "${KAIZEN_PORTAL_URL%/}" "$(_kaizen_urlpath "$1")" "${2:+?$2}"
}

# "12.3 MB" / "512 KB" for a number of bytes.
_kaizen_bytes() {
    local bytes=${1:-0}
    case "$bytes" in '' | *[!0-9]*) bytes=0 ;; esac
    if [ "$bytes" -lt 1048576 ]; then
        printf '%d KB' $(((bytes + 1023) / 1024))
    else
        local tenths=$(((bytes * 10 + 524288) / 1048576))
        printf '%d.%d MB' $((tenths / 10)) $((tenths % 10))
    fi
}

# The first line of FILE, for a warning.
_kaizen_first_line() {
    local line=''
    IFS= read -r line <"$1" 2>/dev/null
    printf '%s' "${line:-no details}"
}

# Reads an HTTP response (curl -i) on stdin: writes "STATUS KEY MATCH LENGTH ID SOURCE" to $1, then unpacks a 200's
# archive into the current folder: this runner's copy when the portal said so (no body follows), else the body, kept
# on the way in the file $2 (in the runner's cache folder) unless $2 is empty. Another status's body goes to $1.body. Bash reads a pipe a
# byte at a time, so after the headers the rest of stdin is exactly the body.
_kaizen_cache_unpack() {
    local line status='' key='' match='' length='' id='' source=''
    if ! IFS= read -r line; then
        printf 'none\n' >"$1"
        return 0
    fi
    status=${line#* }
    status=${status%% *}
    while IFS= read -r line; do
        line=${line%$'\r'}
        [ -z "$line" ] && break
        case "${line,,}" in
            kaizen-cache-key:*) key=${line#*:} ;;
            kaizen-cache-match:*) match=${line#*:} ;;
            kaizen-cache-id:*) id=${line#*:} ;;
            kaizen-cache-source:*) source=${line#*:} ;;
            content-length:*) length=${line#*:} ;;
        esac
    done
    key=${key# } id=${id# } source=${source# }
    printf '%s %s %s %s %s %s\n' "$status" "$key" "${match# }" "${length# }" "$id" "$source" >"$1"
    if [ "$status" != 200 ]; then
        cat >"$1.body"
        return 0
    fi
    if [ -n "${_KAIZEN_PLAIN-}" ]; then
        tar -xf -
    elif [ "$source" = runner ]; then
        zstd -q -d -c -- "$KAIZEN_CACHE_DIR/$key@$id.tar.zst" | tar -xf -
    elif [ -n "$2" ]; then
        tee -- "$2" | zstd -q -d -c | tar -xf -
    else
        zstd -q -d -c | tar -xf -
    fi
}

# The entry ids this runner keeps copies of (KEY@ID.tar.zst in the project's cache folder; '@' is in no key, so a
# folder's own KEY.tar.zst entries are never taken for copies), newest first, comma-separated.
_kaizen_cache_copies() {
    [ -n "${KAIZEN_CACHE_DIR-}" ] || return 0
    local file id ids='' count=0
    while IFS= read -r file; do
        id=${file%.tar.zst}
        id=${id##*@}
        case "$id" in '' | *[!0-9]*) continue ;; esac
        ids+="${ids:+,}$id"
        count=$((count + 1))
        [ "$count" -ge 100 ] && break
    done < <(cd -- "$KAIZEN_CACHE_DIR" 2>/dev/null && ls -t -- *@*.tar.zst 2>/dev/null)
    printf '%s' "$ids"
}

_kaizen_remote_restore() {
    local key=$1 name=$2 count=$3
    shift 3
    local -a fallbacks=("${@:1:count}")
    shift "$count"
    local query fallback started have ok=0
    query=${name:+name=$(_kaizen_urlpath "$name")}
    for fallback in "${fallbacks[@]}"; do query+="${query:+&}fallback=$(_kaizen_urlpath "$fallback")"; done
    # Without fallbacks of its own, a classic NAME KEYFILE... restore falls back to the newest NAME-* entry.
    if [ ${#fallbacks[@]} -eq 0 ] && [ -n "$name" ] && [ "$key" != "$name" ]; then
        query+="${query:+&}fallback=$(_kaizen_urlpath "$name-")"
    fi
    if [ -n "${_KAIZEN_PLAIN-}" ]; then
        query+="${query:+&}format=tar"
    else
        have=$(_kaizen_cache_copies)
        [ -n "$have" ] && query+="${query:+&}have=$have"
    fi
    started=$(_kaizen_now)
    local response="$_KAIZEN_TMP/response" partial=''
    # The copy is written next to where it will stay, so keeping it is a rename, not a second copy.
    if [ -z "${_KAIZEN_PLAIN-}" ] && [ -n "${KAIZEN_CACHE_DIR-}" ] && mkdir -p -- "$KAIZEN_CACHE_DIR" 2>/dev/null; then
        partial="$KAIZEN_CACHE_DIR/.restore.$BASHPID.$RANDOM.tmp"
        trap 'rm -rf -- "$_KAIZEN_TMP" "$partial"' EXIT
    fi
    _kaizen_curl --connect-timeout 10 -i "$(_kaizen_cache_url "$key" "$query")" 2>"$_KAIZEN_TMP/curl.err" \
        | _kaizen_cache_unpack "$response" "$partial" 2>"$_KAIZEN_TMP/unpack.err" || ok=$?
    local status='' matched='' match='' length='' id='' source='' size where=''
    read -r status matched match length id source <"$response" 2>/dev/null
    case "$status" in
        200)
            local copy="$KAIZEN_CACHE_DIR/$matched@$id.tar.zst"
            if [ "$source" = runner ]; then
                size=$(_kaizen_size "$copy")
                where=", this runner's copy"
            elif [ -n "${_KAIZEN_PLAIN-}" ]; then
                size="sent as tar: zstd is not installed here"
            else
                size=$(_kaizen_bytes "$length")
            fi
            if [ "$ok" -eq 0 ]; then
                if [ "$source" = runner ]; then
                    touch -c -- "$copy" 2>/dev/null
                elif [ -n "$partial" ] && [ -s "$partial" ] && mv -f -- "$partial" "$copy" 2>/dev/null; then
                    # Kept for the next restore here: an entry's id names its bytes for good.
                    _kaizen_cache_evict "$copy" quiet
                fi
                if [ "$match" = exact ]; then
                    echo "cache: restored $key ($size$where) in $(_kaizen_elapsed "$started")"
                else
                    echo "cache: no entry for $key, restored the newest $matched instead ($size$where) in $(_kaizen_elapsed "$started")"
                fi
                return 0
            fi
            # A half-extracted tree is worse than none: the job's install step starts clean instead.
            local path reason
            for path in "$@"; do rm -rf -- "./$path"; done
            [ "$source" = runner ] && rm -f -- "$copy"
            reason=$(_kaizen_first_line "$_KAIZEN_TMP/unpack.err")
            [ -s "$_KAIZEN_TMP/curl.err" ] && reason=$(_kaizen_first_line "$_KAIZEN_TMP/curl.err")
            echo "cache: warning: could not restore $matched (broken or cut-off archive$where: $reason); continuing without a cache" ;;
        404) echo "cache: miss for $key (nothing stored yet)" ;;
        401) echo "cache: warning: the portal refused the job's token (the job is no longer running); continuing without a cache" ;;
        none | '')
            echo "cache: warning: could not reach the portal at $KAIZEN_PORTAL_URL ($(_kaizen_first_line "$_KAIZEN_TMP/curl.err")); continuing without a cache" ;;
        *) echo "cache: warning: the portal answered $status for $key: $(_kaizen_detail "$response.body"); continuing without a cache" ;;
    esac
    return 0
}

# Why the portal refuses to store (403): a fork's build, or a debug session (its token reads, never writes).
_kaizen_no_store_reason() {
    if [ -n "${KAIZEN_DEBUG_SESSION-}" ]; then
        echo "a debug session restores caches but does not store them (they belong to the build that ran)"
    else
        echo "builds of pull requests from forks may restore caches but not store them"
    fi
}

_kaizen_remote_store() {
    local key=$1 name=$2 count=$3
    shift $((3 + count))
    local status
    status=$(_kaizen_curl --connect-timeout 10 -I -o /dev/null -w '%{http_code}' "$(_kaizen_cache_url "$key" store=1)" 2>"$_KAIZEN_TMP/curl.err")
    case "$status" in
        200) echo "cache: $key already stored, skipping"; return 0 ;;
        404) ;;
        403) echo "cache: not storing $key: $(_kaizen_no_store_reason)"; return 0 ;;
        401) echo "cache: warning: the portal refused the job's token (the job is no longer running); $key not stored"; return 0 ;;
        000 | '')
            echo "cache: warning: could not reach the portal at $KAIZEN_PORTAL_URL ($(_kaizen_first_line "$_KAIZEN_TMP/curl.err")); $key not stored"
            return 0 ;;
        *) echo "cache: warning: the portal answered $status for $key; not stored"; return 0 ;;
    esac

    local -a present=()
    _kaizen_present_paths "$@" || { echo "cache: nothing to store for $key"; return 0; }

    local started archived sent answer code size
    started=$(_kaizen_now)
    # The mark goes last, only when tar and zstd both succeeded (pipefail); see above.
    local compress='zstd -q -T0 -c' query=${name:+name=$(_kaizen_urlpath "$name")}
    # Without zstd the tar goes as it is (`cat`) and the portal compresses it; the mark closes it the same way.
    [ -n "${_KAIZEN_PLAIN-}" ] && compress=cat && query+="${query:+&}format=tar"
    { tar -cf - "${present[@]}" | $compress && printf '\x50\x2a\x4d\x18\x08\x00\x00\x00KAIZENOK'; } 2>"$_KAIZEN_TMP/archive.err" \
        | _kaizen_curl --connect-timeout 10 -T - -H 'Content-Type: application/zstd' -o "$_KAIZEN_TMP/answer" \
            -w '%{http_code} %{size_upload}' "$(_kaizen_cache_url "$key" "$query")" \
            >"$_KAIZEN_TMP/code" 2>"$_KAIZEN_TMP/curl.err"
    archived=${PIPESTATUS[0]} sent=${PIPESTATUS[1]}
    read -r code size <"$_KAIZEN_TMP/code" 2>/dev/null
    answer="$_KAIZEN_TMP/answer"
    # The portal's answer first: it may have found the key stored meanwhile and answered before reading the upload
    # (tar and zstd then stop on a closed pipe), and a 201 means the mark, so the whole archive, arrived.
    case "$code" in
        200) echo "cache: $key was stored meanwhile by another job; keeping that one"; return 0 ;;
        403) echo "cache: not storing $key: $(_kaizen_no_store_reason)"; return 0 ;;
    esac
    if [ "$sent" -ne 0 ] && [ "${code:-000}" = 000 ]; then
        echo "cache: warning: could not send $key to the portal at $KAIZEN_PORTAL_URL ($(_kaizen_first_line "$_KAIZEN_TMP/curl.err")); not stored"
        return 0
    fi
    # Without the mark the portal answers 400: tar or zstd failed here.
    if [ "$archived" -ne 0 ] && [ "$code" = 400 ]; then
        echo "cache: warning: could not archive $key ($(_kaizen_first_line "$_KAIZEN_TMP/archive.err")); not stored"
        return 0
    fi
    case "$code" in
        201)
            echo "cache: stored $key ($(_kaizen_bytes "$size")) in $(_kaizen_elapsed "$started")"
            local evicted
            for evicted in $(sed -n 's/.*"evicted":\[\([^]]*\)\].*/\1/p' "$answer" 2>/dev/null | tr -d '"' | tr ',' ' '); do
                echo "cache: evicted $evicted (least recently used) to keep the project's caches within their budget"
            done ;;
        *) echo "cache: warning: $key not stored: the portal answered $code: $(_kaizen_detail "$answer")" ;;
    esac
    return 0
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

# One install per tool and version at a time across every job of the runner: the lock file sits next to the tool's
# folder, and whoever waited re-checks the marker before installing.
_kaizen_tool_install() {
    local name=$1 version=$2 prefix=$3 install=$4
    if ! mkdir -p -- "${prefix%/*}"; then
        echo "tool: cannot create ${prefix%/*}"
        exit 1
    fi
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$prefix.lock" || exit 1
        if ! flock -n 9; then
            echo "tool: another job is installing $name $version, waiting for it"
            flock 9 || exit 1
        fi
    else
        echo "tool: warning: flock is missing; concurrent jobs may install $name $version at the same time"
    fi
    if [ -f "$prefix/.kaizen-installed" ]; then
        echo "tool: $name $version already installed, reusing it"
        exit 0
    fi

    # A folder without the marker is what an interrupted install left behind.
    rm -rf -- "$prefix"
    mkdir -p -- "$prefix" || exit 1
    echo "tool: installing $name $version into $prefix"
    local started status
    started=$(_kaizen_now)
    # Not part of a condition, so the install's own `set -e` works; it runs in the tool's folder.
    (
        cd -- "$prefix" || exit 1
        export KAIZEN_TOOL_PREFIX=$prefix
        set -e
        eval "$install"
    )
    status=$?
    if [ "$status" -ne 0 ]; then
        rm -rf -- "$prefix"
        echo "tool: installing $name $version failed with exit code $status; removed the partial install"
        exit "$status"
    fi
    : >"$prefix/.kaizen-installed"
    echo "tool: installed $name $version in $(_kaizen_elapsed "$started")"
}

# ---- artifacts: files a job publishes to the portal, and fetches from it ----

_kaizen_artifact() {
    set -o pipefail
    local action=${1-}
    shift 2>/dev/null || :
    case "$action" in
        push | pull) ;;
        *) _kaizen_usage >&2; exit 2 ;;
    esac
    if [ -z "${KAIZEN_PORTAL_URL-}" ] || [ -z "${KAIZEN_JOB_TOKEN-}" ]; then
        echo "artifact: KAIZEN_PORTAL_URL and KAIZEN_JOB_TOKEN are not set; artifacts work inside Kaizen jobs only" >&2
        exit 2
    fi
    if ! command -v curl >/dev/null 2>&1; then
        echo "artifact: curl is not installed" >&2
        exit 2
    fi
    _KAIZEN_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kaizen-artifact.XXXXXX") || exit 1
    trap 'rm -rf -- "$_KAIZEN_TMP"' EXIT
    "_kaizen_artifact_$action" "$@"
}

# Why NAME cannot be an artifact name (the portal checks again, and more strictly); nothing when it can.
_kaizen_artifact_problem() {
    case "$1" in
        '') echo "the artifact name is empty" ;;
        /*) echo "'$1' is an absolute path; artifact names are relative, such as cli/cli-1.0.tar.gz" ;;
        .. | ../* | */.. | */../*) echo "'$1' holds a '..' segment; artifact names may not leave their folder" ;;
        *[[:cntrl:]]*) echo "the artifact name holds a control character" ;;
        *) return 1 ;;
    esac
}

# NAME with every byte but unreserved ones and '/' percent-encoded, for the URL's path.
_kaizen_urlpath() {
    local LC_ALL=C value=$1 out='' c i
    for ((i = 0; i < ${#value}; i++)); do
        c=${value:i:1}
        case "$c" in
            [A-Za-z0-9._~/-]) out+=$c ;;
            *) printf -v c '%%%02X' "'$c"; out+=$c ;;
        esac
    done
    printf '%s' "$out"
}

# curl to the portal with the job's token; the token goes through a pipe, never onto curl's command line.
_kaizen_curl() {
    curl -sS --header @<(printf 'Authorization: Bearer %s\n' "$KAIZEN_JOB_TOKEN") "$@"
}

# The "detail" of the portal's problem answer in FILE, else the start of FILE.
_kaizen_detail() {
    local detail
    detail=$(sed -n 's/.*"detail":"\([^"]*\)".*/\1/p' "$1" 2>/dev/null)
    if [ -n "$detail" ]; then printf '%s' "$detail"; else head -c 300 "$1" 2>/dev/null; fi
}

_kaizen_artifact_push() {
    local scope=build
    while [ $# -gt 0 ]; do
        case "$1" in
            --build) scope=build; shift ;;
            --job) scope=job; shift ;;
            --project) scope=project; shift ;;
            --) shift; break ;;
            -*) echo "artifact push: unknown option '$1'" >&2; exit 2 ;;
            *) break ;;
        esac
    done
    if [ $# -lt 1 ] || [ $# -gt 2 ]; then
        echo "artifact push: give PATH and optionally NAME" >&2
        exit 2
    fi
    local path=$1 name=${2-} folder=0 upload=$1 problem
    if [ ! -e "$path" ]; then
        echo "artifact push: '$path' does not exist" >&2
        exit 1
    fi
    if [ -d "$path" ]; then
        folder=1
        [ -n "$name" ] || name="$(basename -- "$(cd -- "$path" && pwd)").tar.gz"
        upload="$_KAIZEN_TMP/upload.tar.gz"
        if ! tar -czf "$upload" -C "$path" .; then
            echo "artifact push: could not pack the folder '$path'" >&2
            exit 1
        fi
    else
        [ -n "$name" ] || name=$(basename -- "$path")
    fi
    if problem=$(_kaizen_artifact_problem "$name"); then
        echo "artifact push: $problem" >&2
        exit 2
    fi
    local started status
    started=$(_kaizen_now)
    status=$(_kaizen_curl -T "$upload" -H 'Content-Type: application/octet-stream' -o "$_KAIZEN_TMP/answer" -w '%{http_code}' \
        "${KAIZEN_PORTAL_URL%/}/api/jobs/artifacts/$scope/$(_kaizen_urlpath "$name")?folder=$folder") || {
        echo "artifact push: could not send '$name' to the portal at $KAIZEN_PORTAL_URL" >&2
        exit 1
    }
    case "$status" in
        201) echo "artifact: pushed $name ($scope, $(_kaizen_size "$upload")) in $(_kaizen_elapsed "$started")" ;;
        401) echo "artifact push: the portal refused the job's token: the job is no longer running" >&2; exit 1 ;;
        *) echo "artifact push: the portal refused '$name' ($status): $(_kaizen_detail "$_KAIZEN_TMP/answer")" >&2; exit 1 ;;
    esac
}

_kaizen_artifact_pull() {
    local scope=build wait=600
    while [ $# -gt 0 ]; do
        case "$1" in
            --project) scope=project; shift ;;
            --build) scope=build; shift ;;
            --wait)
                case "${2-}" in '' | *[!0-9]*) echo "artifact pull: --wait takes a number of seconds" >&2; exit 2 ;; esac
                wait=$2; shift 2 ;;
            --) shift; break ;;
            -*) echo "artifact pull: unknown option '$1'" >&2; exit 2 ;;
            *) break ;;
        esac
    done
    if [ $# -lt 1 ] || [ $# -gt 2 ]; then
        echo "artifact pull: give NAME and optionally DEST" >&2
        exit 2
    fi
    local name=$1 dest=${2-} problem
    if problem=$(_kaizen_artifact_problem "$name"); then
        echo "artifact pull: $problem" >&2
        exit 2
    fi
    local url
    url="${KAIZEN_PORTAL_URL%/}/api/jobs/artifacts/$scope/$(_kaizen_urlpath "$name")"
    local started status waiting=0 deadline
    started=$(_kaizen_now)
    deadline=$(($(date +%s) + wait))
    while :; do
        status=$(_kaizen_curl -o "$_KAIZEN_TMP/body" -D "$_KAIZEN_TMP/headers" -w '%{http_code}' "$url") || {
            echo "artifact pull: could not fetch '$name' from the portal at $KAIZEN_PORTAL_URL" >&2
            exit 1
        }
        case "$status" in
            200) break ;;
            401) echo "artifact pull: the portal refused the job's token: the job is no longer running" >&2; exit 1 ;;
            404)
                # Retry-After: another job of the build is queued or running and may still push it.
                if grep -qi '^retry-after:' "$_KAIZEN_TMP/headers"; then
                    if [ "$(date +%s)" -lt "$deadline" ]; then
                        if [ "$waiting" -eq 0 ]; then
                            echo "artifact: waiting up to ${wait}s for $name: $(_kaizen_detail "$_KAIZEN_TMP/body")"
                            waiting=1
                        fi
                        sleep 2
                        continue
                    fi
                    echo "artifact pull: '$name' did not arrive within ${wait}s (--wait)" >&2
                    exit 1
                fi
                echo "artifact pull: $(_kaizen_detail "$_KAIZEN_TMP/body")" >&2
                exit 1 ;;
            *) echo "artifact pull: the portal refused '$name' ($status): $(_kaizen_detail "$_KAIZEN_TMP/body")" >&2; exit 1 ;;
        esac
    done
    local size
    size=$(_kaizen_size "$_KAIZEN_TMP/body")
    if grep -qi '^kaizen-artifact-folder: *true' "$_KAIZEN_TMP/headers"; then
        # A folder comes back as a folder.
        if [ -z "$dest" ]; then dest=${name##*/}; dest=${dest%.tar.gz}; fi
        if ! { mkdir -p -- "$dest" && tar -xzf "$_KAIZEN_TMP/body" -C "$dest"; }; then
            echo "artifact pull: could not unpack '$name' into '$dest'" >&2
            exit 1
        fi
    else
        [ -n "$dest" ] || dest=${name##*/}
        # DEST names a folder when it is one or ends with '/'.
        case "$dest" in */) dest="$dest${name##*/}" ;; *) [ ! -d "$dest" ] || dest="$dest/${name##*/}" ;; esac
        if ! { mkdir -p -- "$(dirname -- "$dest")" && mv -f -- "$_KAIZEN_TMP/body" "$dest"; }; then
            echo "artifact pull: could not write '$dest'" >&2
            exit 1
        fi
    fi
    echo "artifact: pulled $name ($size) to $dest in $(_kaizen_elapsed "$started")"
}

# ---- in a sandbox or a container: the runner runs `kaizen` for the job ----
# The job sandbox and the Docker executor set KAIZEN_CONTROL_DIR (a folder shown at its host path). The job holds no
# token for the portal and may not change its tools (and an image may have no curl, tar, zstd or sha256sum), so cache,
# checksum and artifact calls, and tool installs, go to the runner, which runs this same file in a sandbox of its own
# in the same directory (the workspace and the tools folder are at their host paths) and streams the output back.
# Only bash builtins are used here; `tool use` still puts the tool on the job shell's own PATH.
if [ -n "${KAIZEN_CONTROL_DIR-}" ]; then
    _kaizen_forward() {
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
    _kaizen_cache() { _kaizen_forward cache "$@"; }
    _kaizen_checksum() { _kaizen_forward checksum "$@"; }
    _kaizen_artifact() {
        # The host sees the container's workspace only (mounted at the same path): any other path would be the host's
        # file, not the container's, so push PATH and pull DEST must be in the workspace.
        local action=${1-} arg paths=() dashes=0 i
        for ((i = 2; i <= $#; i++)); do
            arg=${!i}
            if [ "$dashes" = 0 ]; then
                case "$arg" in
                    --) dashes=1; continue ;;
                    --wait) i=$((i + 1)); continue ;;
                    -*) continue ;;
                esac
            fi
            paths+=("$arg")
        done
        case "$action" in
            push) [ "${#paths[@]}" -gt 0 ] && arg=${paths[0]} || arg='' ;;
            pull) arg=${paths[1]-$PWD} ;;
            *) arg='' ;;
        esac
        if [ -n "$arg" ] && [ -n "${KAIZEN_WORKSPACE-}" ]; then
            local full=$arg
            [ "${full#/}" != "$full" ] || full="$PWD/$full"
            case "/$full/" in
                */../*) full='' ;;
            esac
            case "$full/" in
                "${KAIZEN_WORKSPACE%/}/"*) ;;
                *) echo "artifact $action: '$arg' is outside the workspace ($KAIZEN_WORKSPACE); the runner pushes and pulls a sandboxed or container job's artifacts in its workspace only" >&2
                   return 2 ;;
            esac
        fi
        _kaizen_forward artifact "$@"
    }
    _kaizen_tool_install() { _kaizen_forward tool use "$1" "$2" -- "$4"; }
fi
