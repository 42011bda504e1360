import type { Knex } from 'knex';

export interface AttachmentRow {
  id: number;
  case_id: number;
  message_id: number | null;
  public_id: string;
  filename: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  storage_key: string;
  created_at: Date;
}

export function createAttachmentStore(db: Knex) {
  return {
    async insertMany(trx: Knex.Transaction, rows: Omit<AttachmentRow, 'id' | 'created_at'>[]): Promise<AttachmentRow[]> {
      if (!rows.length) return [];
      return (await trx('attachments').insert(rows).returning('*')) as AttachmentRow[];
    },
    listForCase: (caseId: number): Promise<AttachmentRow[]> => db<AttachmentRow>('attachments').where({ case_id: caseId }).orderBy('id'),
    listForMessages: (messageIds: number[]): Promise<AttachmentRow[]> =>
      messageIds.length ? db<AttachmentRow>('attachments').whereIn('message_id', messageIds).orderBy('id') : Promise.resolve([]),
    findByPublicId: (publicId: string) => db<AttachmentRow>('attachments').where({ public_id: publicId }).first(),
  };
}

export type AttachmentStore = ReturnType<typeof createAttachmentStore>;
