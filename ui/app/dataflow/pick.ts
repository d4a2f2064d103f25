// Clicks on the canvas that are clicks, not the end of an orbit drag: the pointer went down and up within
// a few pixels. Returns the remover.
const CLICK_SLOP_PX = 4;

export function onCanvasClick(canvas: HTMLCanvasElement, click: (clientX: number, clientY: number) => void): () => void {
  let downX = NaN;
  let downY = NaN;
  const down = (e: PointerEvent) => {
    downX = e.clientX;
    downY = e.clientY;
  };
  const up = (e: PointerEvent) => {
    if (e.button === 0 && Math.hypot(e.clientX - downX, e.clientY - downY) <= CLICK_SLOP_PX) click(e.clientX, e.clientY);
    downX = downY = NaN;
  };
  canvas.addEventListener('pointerdown', down);
  canvas.addEventListener('pointerup', up);
  return () => {
    canvas.removeEventListener('pointerdown', down);
    canvas.removeEventListener('pointerup', up);
  };
}
