/**
 * The collections and the documents of the chosen one. A collection the server does not know yet
 * (nothing uploaded) is an empty list, not an error: the first upload creates it.
 */
import {
  ApiError,
  createCollection,
  deleteCollection,
  deleteDocument,
  listCollections,
  listDocuments,
  updateCollection,
} from '../lib/api';
import { setDocumentTags } from '../lib/api/documents';
import { inputPattern } from '../lib/patterns';
import { COLLECTION_NAME_PATTERN, type Collection, type DocumentInfo } from '../lib/types';
import { announceDocumentsChanged } from './events';

/** For the new-collection field: the gateway's own pattern, from its OpenAPI schema. */
export const NAME_PATTERN = inputPattern(COLLECTION_NAME_PATTERN);

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Library {
  collections = $state<Collection[]>([]);
  documents = $state<DocumentInfo[]>([]);
  loading = $state(false);
  error = $state<string | null>(null);
  #shown = ''; // the collection whose documents are (being) loaded

  async refreshCollections(): Promise<void> {
    try {
      this.collections = await listCollections();
    } catch (error) {
      this.error = message(error);
    }
  }

  async refreshDocuments(collection: string): Promise<void> {
    this.#shown = collection;
    this.loading = true;
    try {
      const documents = await listDocuments(collection);
      if (this.#shown === collection) {
        this.documents = documents.sort((a, b) => b.created - a.created);
        this.error = null;
      }
    } catch (error) {
      if (this.#shown !== collection) return;
      this.documents = [];
      if (!(error instanceof ApiError && error.status === 404)) this.error = message(error);
    } finally {
      if (this.#shown === collection) this.loading = false;
    }
  }

  /** Creates the collection; answers false (and sets `error`) when the server refuses. */
  async create(name: string): Promise<boolean> {
    try {
      await createCollection(name);
      await this.refreshCollections();
      return true;
    } catch (error) {
      this.error = message(error);
      return false;
    }
  }

  /** Sets the collection's own grounded threshold (null: the service's); false when refused. */
  async setMinScore(name: string, minScore: number | null): Promise<boolean> {
    try {
      const updated = await updateCollection(name, { min_score: minScore });
      this.collections = this.collections.map((c) => (c.name === name ? updated : c));
      return true;
    } catch (error) {
      this.error = message(error);
      return false;
    }
  }

  async removeCollection(name: string): Promise<boolean> {
    try {
      await deleteCollection(name);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) {
        this.error = message(error);
        return false;
      }
    }
    await this.refreshCollections();
    // The chat bound to it learns it is gone (even when the picker keeps the same name).
    announceDocumentsChanged(name);
    return true;
  }

  async removeDocument(id: string, collection: string): Promise<void> {
    try {
      await deleteDocument(id, collection);
      this.documents = this.documents.filter((d) => d.id !== id);
      void this.refreshCollections(); // counts changed
      announceDocumentsChanged(collection);
    } catch (error) {
      this.error = message(error);
    }
  }

  /** Replaces a document's tags; false (and `error`) when the server refuses. */
  async setTags(id: string, collection: string, tags: string[]): Promise<boolean> {
    try {
      const updated = await setDocumentTags(id, collection, tags);
      this.documents = this.documents.map((d) => (d.id === id ? { ...d, ...updated } : d));
      announceDocumentsChanged(collection);
      return true;
    } catch (error) {
      this.error = message(error);
      return false;
    }
  }
}
