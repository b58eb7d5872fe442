// The Edit YAML text area of the build settings: Tab indents by two spaces instead of leaving the field (Shift+Tab
// still leaves it, so the keyboard is never trapped), and a problem's line can be selected to show where it is.

function areaOf(container) {
    return container ? container.querySelector('textarea') : null;
}

export function attach(container) {
    const area = areaOf(container);
    if (!area || area.dataset.kzIndent) return;
    area.dataset.kzIndent = '1';
    area.spellcheck = false;
    area.setAttribute('autocapitalize', 'off');
    area.setAttribute('autocorrect', 'off');
    // Over a slow connection this runs late: someone already typing keeps their caret.
    if (document.activeElement !== area && area.value === area.defaultValue) {
        area.focus();
        area.setSelectionRange(0, 0);
    }
    area.addEventListener('keydown', e => {
        if (e.key !== 'Tab' || e.shiftKey || e.ctrlKey || e.altKey || e.metaKey) return;
        e.preventDefault();
        // insertText keeps the browser's undo history and raises the input event the portal listens to.
        if (!document.execCommand('insertText', false, '  ')) {
            area.setRangeText('  ', area.selectionStart, area.selectionEnd, 'end');
            area.dispatchEvent(new Event('input', { bubbles: true }));
        }
    });
}

export function selectLine(container, line) {
    const area = areaOf(container);
    if (!area || !(line >= 1)) return;
    const lines = area.value.split('\n');
    const index = Math.min(line, lines.length) - 1;
    let start = 0;
    for (let i = 0; i < index; i++) start += lines[i].length + 1;
    area.focus();
    area.setSelectionRange(start, start + lines[index].length);
    const height = parseFloat(getComputedStyle(area).lineHeight) || 20;
    area.scrollTop = Math.max(0, (index - 3) * height);
}
