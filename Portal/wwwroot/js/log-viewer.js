// Scrolling for the job log viewer: follow the tail, jump to a row, and tell .NET when the person scrolls up.
const state = new WeakMap();

export function attach(viewport, dotnet) {
    if (!viewport || state.has(viewport)) return;
    let pointerDown = false;
    let lastTop = viewport.scrollTop;
    const userUp = () => dotnet.invokeMethodAsync('OnUserScrolledUp').catch(() => { });
    const handlers = {
        wheel: e => { if (e.deltaY < 0) userUp(); },
        keydown: e => { if (['ArrowUp', 'PageUp', 'Home'].includes(e.key)) userUp(); },
        touchmove: () => userUp(),
        pointerdown: () => { pointerDown = true; },
        pointerup: () => { pointerDown = false; },
        scroll: () => {
            // Dragging the scroll bar upwards is the one scroll gesture without a wheel or key event.
            if (pointerDown && viewport.scrollTop < lastTop - 2) userUp();
            lastTop = viewport.scrollTop;
        },
    };
    for (const [name, handler] of Object.entries(handlers)) viewport.addEventListener(name, handler, { passive: true });
    window.addEventListener('pointerup', handlers.pointerup, { passive: true });
    state.set(viewport, handlers);
}

export function detach(viewport) {
    const handlers = viewport && state.get(viewport);
    if (!handlers) return;
    for (const [name, handler] of Object.entries(handlers)) viewport.removeEventListener(name, handler);
    window.removeEventListener('pointerup', handlers.pointerup);
    state.delete(viewport);
}

// Rows all have the same height, so row N starts at N * rowHeight below the list's top.
export function scrollToRow(viewport, index, rowHeight, align) {
    if (!viewport) return;
    const list = viewport.querySelector('.kz-rows');
    const top = (list ? list.offsetTop : 0) + index * rowHeight;
    let target = top;
    if (align === 'center') target = top - (viewport.clientHeight - rowHeight) / 2;
    else if (align === 'end') target = top - viewport.clientHeight + rowHeight * 2;
    else target = top - rowHeight;
    viewport.scrollTop = Math.max(0, target);
}

export function scrollToBottom(viewport) {
    if (viewport) viewport.scrollTop = viewport.scrollHeight;
}

export function setHash(hash) {
    // The whole path: with <base href="/"> a bare "#L5" would turn the address into "/#L5".
    history.replaceState(history.state, '', location.pathname + location.search + hash);
}
