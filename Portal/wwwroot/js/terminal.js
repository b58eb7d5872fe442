// The debug session's terminal: xterm.js (built from npm into lib/xterm by the portal's build) talking to the portal's
// WebSocket, which relays to a PTY on the runner. Binary frames are terminal bytes both ways; text frames are JSON
// control messages (resize from here; status and expires from the server).
const sessions = new Map();
let libraries;

// The UMD builds define the globals Terminal and FitAddon.FitAddon; loaded once, on the first terminal.
function loadLibraries() {
    libraries ??= Promise.all([
        loadStyle('lib/xterm/xterm.css'),
        loadScript('lib/xterm/xterm.js'),
        loadScript('lib/xterm/addon-fit.js'),
    ]).catch(e => { libraries = undefined; throw e; });
    return libraries;
}

function loadScript(src) {
    return new Promise((resolve, reject) => {
        const script = document.createElement('script');
        script.src = src;
        script.onload = resolve;
        script.onerror = () => reject(new Error(`Could not load ${src}`));
        document.head.appendChild(script);
    });
}

function loadStyle(href) {
    return new Promise(resolve => {
        const link = document.createElement('link');
        link.rel = 'stylesheet';
        link.href = href;
        // A missing style makes an ugly terminal, not a broken one.
        link.onload = link.onerror = resolve;
        document.head.appendChild(link);
    });
}

const themes = {
    light: {
        background: '#fafafa', foreground: '#1f2328', cursor: '#1f2328', cursorAccent: '#fafafa',
        selectionBackground: '#b6d7ff',
        black: '#24292f', red: '#cf222e', green: '#116329', yellow: '#4d2d00', blue: '#0969da', magenta: '#8250df',
        cyan: '#1b7c83', white: '#6e7781', brightBlack: '#57606a', brightRed: '#a40e26', brightGreen: '#1a7f37',
        brightYellow: '#633c01', brightBlue: '#218bff', brightMagenta: '#a475f9', brightCyan: '#3192aa', brightWhite: '#8c959f',
    },
    dark: {
        background: '#1e1e1e', foreground: '#d4d4d4', cursor: '#d4d4d4', cursorAccent: '#1e1e1e',
        selectionBackground: '#264f78',
        black: '#000000', red: '#cd3131', green: '#0dbc79', yellow: '#e5e510', blue: '#2472c8', magenta: '#bc3fbc',
        cyan: '#11a8cd', white: '#e5e5e5', brightBlack: '#666666', brightRed: '#f14c4c', brightGreen: '#23d18b',
        brightYellow: '#f5f543', brightBlue: '#3b8eea', brightMagenta: '#d670d6', brightCyan: '#29b8db', brightWhite: '#e5e5e5',
    },
};

// Copies outside a secure context too (plain http on a LAN address has no navigator.clipboard).
function copyText(text) {
    if (navigator.clipboard?.writeText) return navigator.clipboard.writeText(text).catch(() => copyWithCommand(text));
    copyWithCommand(text);
    return Promise.resolve();
}

function copyWithCommand(text) {
    const area = document.createElement('textarea');
    area.value = text;
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    try { document.execCommand('copy'); } finally { area.remove(); }
}

/**
 * Opens the terminal of debug session `sessionId` in `element`. `dotnet` receives
 * OnTerminalStatus(state, reason, at, ssh), OnTerminalExpires(at) and OnTerminalConnection(connected, message).
 */
export async function open(element, sessionId, dotnet, readOnly) {
    if (!element || sessions.has(element)) return;
    // An ended session's terminal connects once for the replay and never tries again.
    const session = { disposed: false, state: readOnly ? 'ended' : null, socket: null, attempts: 0, cleanups: [] };
    sessions.set(element, session);
    await loadLibraries();
    if (session.disposed) return;

    const dark = window.matchMedia('(prefers-color-scheme: dark)');
    const term = new Terminal({
        cursorBlink: true,
        scrollback: 5000,
        convertEol: false,
        fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace',
        fontSize: 14,
        theme: dark.matches ? themes.dark : themes.light,
        disableStdin: !!readOnly,
    });
    const fit = new FitAddon.FitAddon();
    term.loadAddon(fit);
    term.open(element);
    session.term = term;

    const onScheme = () => { term.options.theme = dark.matches ? themes.dark : themes.light; };
    dark.addEventListener('change', onScheme);
    session.cleanups.push(() => dark.removeEventListener('change', onScheme));

    const encoder = new TextEncoder();
    const sendBytes = bytes => {
        if (session.socket?.readyState === WebSocket.OPEN && !term.options.disableStdin) session.socket.send(bytes);
    };
    const sendSize = () => {
        if (session.socket?.readyState === WebSocket.OPEN) {
            session.socket.send(JSON.stringify({ type: 'resize', cols: term.cols, rows: term.rows }));
        }
    };
    const refit = () => {
        // A hidden or collapsed container has no size; fitting it would give the shell a 1-column terminal.
        if (element.clientWidth === 0 || element.clientHeight === 0) return;
        try { fit.fit(); } catch { /* the terminal was disposed while a resize was pending */ }
    };
    session.refit = refit;

    // term.dispose() removes these listeners.
    term.onData(data => sendBytes(encoder.encode(data)));
    // Some mouse reports are not valid UTF-8: each character is one byte.
    term.onBinary(data => sendBytes(Uint8Array.from(data, c => c.charCodeAt(0) & 0xff)));
    term.onResize(() => sendSize());

    term.attachCustomKeyEventHandler(e => {
        if (e.type !== 'keydown' || !e.ctrlKey || e.altKey || e.metaKey) return true;
        const key = e.key.toLowerCase();
        if (key === 'c' && (e.shiftKey || term.hasSelection())) {
            // Ctrl+Shift+C always copies; Ctrl+C copies a selection and otherwise is ^C for the shell.
            e.preventDefault();
            if (term.hasSelection()) copyText(term.getSelection());
            if (!e.shiftKey) term.clearSelection();
            return false;
        }
        // Ctrl+V and Ctrl+Shift+V: let the browser paste into xterm's textarea (xterm turns that into input, with
        // bracketed paste when the shell asks for it). The browser's own paste needs no clipboard permission.
        if (key === 'v') return false;
        return true;
    });

    const observer = new ResizeObserver(() => refit());
    observer.observe(element);
    session.cleanups.push(() => observer.disconnect());

    refit();
    connect(element, session, sessionId, dotnet, sendSize);
    term.focus();
}

function connect(element, session, sessionId, dotnet, sendSize) {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/api/v1/debug-sessions/${sessionId}/terminal`);
    socket.binaryType = 'arraybuffer';
    session.socket = socket;
    const reconnecting = session.attempts > 0;
    let replayed = false;

    socket.onopen = () => {
        sendSize();
        call(dotnet, 'OnTerminalConnection', true, null);
    };
    socket.onmessage = e => {
        if (typeof e.data === 'string') {
            let message;
            try { message = JSON.parse(e.data); } catch { return; }
            if (message.type === 'status') {
                session.state = message.state;
                if (message.state === 'open') session.attempts = 0;
                if (message.state === 'ended') session.term.options.disableStdin = true;
                call(dotnet, 'OnTerminalStatus', message.state ?? null, message.reason ?? null, message.at ?? null, message.ssh ?? null);
            } else if (message.type === 'expires') {
                call(dotnet, 'OnTerminalExpires', message.at ?? null);
            }
            return;
        }
        session.received = true;
        if (reconnecting && !replayed) {
            // The server replays its recent output on every connect: start over rather than show it twice.
            session.term.reset();
            replayed = true;
        }
        session.term.write(new Uint8Array(e.data));
    };
    socket.onclose = e => {
        if (session.disposed || session.socket !== socket) return;
        session.socket = null;
        if (session.state === 'ended') {
            // The portal keeps an ended session's output in memory for a while only: say so rather than show an empty box.
            if (!session.received) session.term.write('\x1b[2m(This session has ended; its terminal output is no longer kept.)\x1b[0m\r\n');
            call(dotnet, 'OnTerminalConnection', false, null);
            return;
        }
        // A dropped connection (a proxy's idle time-out, a portal restart) while the session lives: try again twice.
        if (session.attempts < 2) {
            session.attempts++;
            call(dotnet, 'OnTerminalConnection', false, 'The connection dropped; reconnecting…');
            session.retry = setTimeout(() => connect(element, session, sessionId, dotnet, sendSize), 1000 * session.attempts);
            return;
        }
        call(dotnet, 'OnTerminalConnection', false,
            e.code === 1008 || e.code === 4403 ? 'Only the person who started this session can use its terminal.'
                : 'The connection to the terminal was lost. Reload the page to try again.');
    };
}

function call(dotnet, method, ...args) {
    dotnet?.invokeMethodAsync(method, ...args).catch(() => { /* the page went away */ });
}

/** Makes the terminal read-only (the session ended): what it shows stays, typing goes nowhere. */
export function setReadOnly(element, readOnly) {
    const session = sessions.get(element);
    if (session?.term) session.term.options.disableStdin = !!readOnly;
}

/** Fits the terminal to its container again (after the layout around it changed). */
export function fit(element) {
    sessions.get(element)?.refit?.();
}

export function focus(element) {
    sessions.get(element)?.term?.focus();
}

export function dispose(element) {
    const session = sessions.get(element);
    if (!session) return;
    sessions.delete(element);
    session.disposed = true;
    clearTimeout(session.retry);
    for (const cleanup of session.cleanups) { try { cleanup(); } catch { } }
    try { session.socket?.close(1000); } catch { }
    session.term?.dispose();
}
