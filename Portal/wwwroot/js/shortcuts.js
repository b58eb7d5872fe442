// Keyboard shortcuts of the whole portal: "/" and Ctrl-K (⌘K on a Mac) open the project switcher.
// "/" is left alone while someone types in a field, an editor or a terminal; Ctrl-K works everywhere.
let listener = null;

function typing(target) {
    if (!(target instanceof Element)) return false;
    return target.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"], .xterm') !== null;
}

export function listen(dotnet) {
    stop();
    listener = e => {
        const ctrlK = (e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 'k';
        const slash = e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !typing(e.target);
        if (!ctrlK && !slash) return;
        e.preventDefault();
        dotnet.invokeMethodAsync('OpenSwitcher');
    };
    document.addEventListener('keydown', listener);
}

export function stop() {
    if (listener) document.removeEventListener('keydown', listener);
    listener = null;
}
