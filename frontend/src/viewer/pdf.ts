/**
 * A PDF's pages with pdf.js: this module is imported only when a page is shown (a dynamic
 * `import()`), so pdf.js and its worker load with the first PDF opened, never with the app.
 *
 * Under the app's Content-Security-Policy: the worker is a file of the app's own assets (a
 * `worker-src`/`script-src 'self'` load, no blob), eval is off (`isEvalSupported: false`: fonts
 * are drawn by interpretation instead of compiled functions), and every size is set through the
 * CSSOM (the policy forbids style attributes). A page is drawn on a canvas with pdf.js's text
 * layer over it (transparent, selectable text), where ./match finds the cited passage.
 */
import { getDocument, GlobalWorkerOptions, TextLayer, type PDFDocumentProxy } from 'pdfjs-dist';
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url';

GlobalWorkerOptions.workerSrc = workerUrl;

export type PdfDocument = PDFDocumentProxy;

export async function openPdf(data: ArrayBuffer): Promise<PdfDocument> {
  return getDocument({ data: new Uint8Array(data), isEvalSupported: false, enableXfa: false }).promise;
}

export interface DrawnPage {
  /** The text layer's pieces, in reading order. */
  pieces: HTMLElement[];
  cancel(): void;
}

/**
 * Draw page `number` (1-based) to fit `width` CSS pixels into `canvas`, and its text layer into
 * `layer` (whose parent is the page's box, sized here).
 */
export async function drawPage(
  pdf: PdfDocument,
  number: number,
  canvas: HTMLCanvasElement,
  layer: HTMLElement,
  width: number,
): Promise<DrawnPage> {
  const page = await pdf.getPage(number);
  const scale = width / page.getViewport({ scale: 1 }).width;
  const viewport = page.getViewport({ scale });
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.floor(viewport.width * ratio);
  canvas.height = Math.floor(viewport.height * ratio);
  canvas.style.setProperty('width', `${Math.floor(viewport.width)}px`);
  canvas.style.setProperty('height', `${Math.floor(viewport.height)}px`);
  const box = layer.parentElement;
  box?.style.setProperty('--scale-factor', String(scale));
  box?.style.setProperty('--total-scale-factor', String(scale));
  box?.style.setProperty('width', `${Math.floor(viewport.width)}px`);
  box?.style.setProperty('height', `${Math.floor(viewport.height)}px`);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('This browser cannot draw on a canvas.');
  const drawing = page.render({
    canvas,
    canvasContext: context,
    viewport,
    transform: ratio === 1 ? undefined : [ratio, 0, 0, ratio, 0, 0],
  });
  layer.replaceChildren();
  const text = new TextLayer({ textContentSource: page.streamTextContent(), container: layer, viewport });
  await Promise.all([drawing.promise, text.render()]);
  return {
    pieces: text.textDivs,
    cancel: () => {
      drawing.cancel();
      text.cancel();
    },
  };
}
