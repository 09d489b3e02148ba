/**
 * The gateway's wire types: the one module the UI imports them from.
 *
 * They are generated from the gateway's OpenAPI schema into ./api-schema.ts (`npm run types`; a
 * check fails when that file drifts from the schema), and only named here: a change of the API
 * shows up as a type error where the UI relies on it, never as a hand copy gone stale.
 */
import type { components } from './api-schema';

type Schemas = components['schemas'];

export type ErrorInfo = Schemas['ErrorBody'];
export type Citation = Schemas['CitationPublic'];

export type MetaEvent = Schemas['MetaEvent'];
export type CitationsEvent = Schemas['CitationsEvent'];
export type TokenEvent = Schemas['TokenEvent'];
export type DoneEvent = Schemas['DoneEvent'];
export type ErrorEvent = Schemas['ErrorEvent'];
/** One event of a chat stream (the JSON of its `data:` line). */
export type ChatEvent = Schemas['ChatEvent'];
/** Milliseconds per stage of one answer: embed, cache, search, first_token, total (rewrite). */
export type Timings = DoneEvent['timings'];

export type ChatRequest = Schemas['ChatRequest'];
export type ChatFilter = Schemas['ChatFilter'];
/** How the passages are found: `hybrid` (meaning and words), `vector` (meaning), `lexical` (words). */
export type RetrievalMode = NonNullable<ChatRequest['retrieval']>;
/** Which leg of retrieval found a passage. */
export type Leg = NonNullable<Citation['legs']>[number];
/** `document`: the answer read one whole document, not the top passages. */
export type AnswerScope = MetaEvent['scope'];

export type SessionMessage = Schemas['MessagePublic'];
export type Session = Schemas['SessionPublic'];

export type Check = Schemas['HealthPart'];
export type Health = Schemas['HealthPublic'];

export type Collection = Schemas['CollectionPublic'];
export type CollectionUpdate = Schemas['CollectionUpdate'];
export type DocumentInfo = Schemas['DocumentPublic'];

export type UploadOk = Schemas['FileIndexed'];
export type UploadFailed = Schemas['FileFailed'];
export type UploadResult = UploadOk | UploadFailed;

/** A collection name the gateway accepts, for an `<input pattern>` (see ./patterns). */
export { COLLECTION_NAME_PATTERN } from './api-schema';

// --- Accounts: sign-in, keys, users, workspaces, members ----------------------------------------

export type UserRole = Schemas['Role'];
export type MemberRole = Schemas['WorkspaceRole'];
export type MyWorkspace = Schemas['MeWorkspace'];
/** GET /api/me, and the answer of a sign-in. */
export type Me = Schemas['MePublic'];
export type ApiKey = Schemas['KeyPublic'];
export type ApiKeyCreated = Schemas['KeyCreated'];
export type User = Schemas['UserPublic'];
export type WorkspaceInfo = Schemas['WorkspacePublic'];
export type WorkspaceCreated = Schemas['WorkspacePublic'];
export type Member = Schemas['MemberPublic'];

/**
 * Names the gateway accepts (ragis.contract's WORKSPACE_PATTERN and USERNAME_PATTERN), for an
 * `<input pattern>` (see ./patterns); patterns.test.ts holds them to the schema's.
 */
export const WORKSPACE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
export const USERNAME_PATTERN = '^[a-z0-9][a-z0-9_.-]{0,31}$';

// --- Conversations: the user's chats, listed, renamed, cut back ----------------------------------

/** One of the user's chats: its session, title (the first question, or renamed) and collection. */
export type Conversation = Schemas['ConversationPublic'];
export type ConversationList = Schemas['ConversationsPublic'];

// --- The cited-document viewer: a document's passages, in order -----------------------------------

export type DocumentPassages = Schemas['DocumentPassages'];
export type StoredPassage = Schemas['StoredPassage'];

// --- Settings: the LLM models and the user's preferences ----------------------------------------

/** GET /api/models: the provider's models, its default, and why it listed none. */
export type Models = Schemas['ModelsPublic'];
/** GET/PUT /api/preferences: the user's, in every workspace (null: the server's default). */
export type Preferences = Schemas['Preferences'];
export type AnswerLength = NonNullable<Preferences['answer_length']>;

// --- Documents: an upload's progress, as its event stream tells it --------------------------------

/** POST /api/documents/upload with `Accept: text/event-stream`: a file's stage, its embedding, its result. */
export type UploadStageEvent = Schemas['UploadStageEvent'];
export type UploadProgressEvent = Schemas['UploadProgressEvent'];
export type UploadFileEvent = Schemas['UploadFileEvent'];
export type UploadStage = UploadStageEvent['stage'];
