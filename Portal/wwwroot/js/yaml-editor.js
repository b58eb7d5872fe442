// The Edit YAML text area of the build settings: Tab indents by two spaces instead of leaving the field (Shift+Tab
// still leaves it, so the keyboard is never trapped), Escape asks the dialog to cancel, a problem's line can be selected to show where it is, and a text
// longer than settings may be is not sent to the portal at all (only its length is), so a huge paste cannot overrun
// the connection; the text stays in the field to be cut down.

function areaOf(container) {
    return container ? container.querySelector('textarea') : null;
}

export function attach(container, dotnet, maxLength) {
    const area = areaOf(container);
    if (!area || area.dataset.kzIndent) return;
    area.dataset.kzIndent = '1';
    let told = 0;
    area.addEventListener('input', e => {
        if (area.value.length <= maxLength) { told = 0; return; }
        // The portal listens for input on the document: stopped here, the text does not travel.
        e.stopPropagation();
        if (area.value.length === told) return;
        told = area.value.length;
        dotnet.invokeMethodAsync('TooLong', told);
    });
    area.spellcheck = false;
    area.setAttribute('autocapitalize', 'off');
    area.setAttribute('autocorrect', 'off');
    // Over a slow connection this runs late: someone already typing keeps their caret.
    if (document.activeElement !== area && area.value === area.defaultValue) {
        area.focus();
        area.setSelectionRange(0, 0);
    }
    const escape = e => {
        if (e.key !== 'Escape') return false;
        e.preventDefault();
        dotnet.invokeMethodAsync('EscapeAsync');
        return true;
    };
    container.addEventListener('keydown', escape);
    area.addEventListener('keydown', e => {
        // Every event from a text area carries its whole text to the portal, and the dialog's focus trap listens for
        // keys: kept here, a keystroke sends the text once (with its input event), not three times.
        if (!(e.key === 'Tab' && e.shiftKey)) e.stopPropagation();
        if (escape(e)) return;
        if (e.key !== 'Tab' || e.shiftKey || e.ctrlKey || e.altKey || e.metaKey) return;
        e.preventDefault();
        // insertText keeps the browser's undo history and raises the input event the portal listens to.
        if (!document.execCommand('insertText', false, '  ')) {
            area.setRangeText('  ', area.selectionStart, area.selectionEnd, 'end');
            area.dispatchEvent(new Event('input', { bubbles: true }));
        }
    });
    area.addEventListener('keyup', e => {
        if (e.key !== 'Tab') e.stopPropagation();
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
