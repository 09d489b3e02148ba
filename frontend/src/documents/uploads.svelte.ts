/** The upload queue: one request per file, two at a time, each with its progress and result. */
import { uploadFile } from '../lib/api';
import type { UploadResult } from '../lib/types';

export interface Upload {
  key: number;
  name: string;
  size: number;
  /** 0..1 of the bytes sent. */
  progress: number;
  state: 'queued' | 'sending' | 'processing' | 'done';
  result: UploadResult | null;
}

const PARALLEL = 2;
let nextKey = 1;

export class Uploads {
  items = $state<Upload[]>([]);
  #queue: { file: File; item: Upload; collection: string }[] = [];
  #running = 0;
  #onDone: () => void;

  constructor(onDone: () => void) {
    this.#onDone = onDone;
  }

  get busy(): boolean {
    return this.items.some((i) => i.state !== 'done');
  }

  add(files: Iterable<File>, collection: string): void {
    for (const file of files) {
      this.items.push({ key: nextKey++, name: file.name, size: file.size, progress: 0, state: 'queued', result: null });
      this.#queue.push({ file, item: this.items[this.items.length - 1], collection });
    }
    this.#pump();
  }

  clearFinished(): void {
    this.items = this.items.filter((i) => i.state !== 'done');
  }

  #pump(): void {
    while (this.#running < PARALLEL && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      this.#running += 1;
      void this.#run(job).finally(() => {
        this.#running -= 1;
        this.#pump();
      });
    }
  }

  async #run({ file, item, collection }: { file: File; item: Upload; collection: string }): Promise<void> {
    item.state = 'sending';
    item.result = await uploadFile(file, {
      collection,
      onProgress: (fraction) => {
        item.progress = fraction;
        if (fraction >= 1) item.state = 'processing'; // sent; the server now parses and embeds it
      },
    });
    item.progress = 1;
    item.state = 'done';
    if (item.result.ok) this.#onDone();
  }
}
