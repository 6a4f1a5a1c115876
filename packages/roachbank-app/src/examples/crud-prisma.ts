// The CRUD demo on Prisma (7, on its node-postgres driver adapter): each step
// is one runPrismaTransaction, and its callback gets Prisma's own `tx` client.
// The client is generated at build time from prisma/schema.prisma.
import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
import { runPrismaTransaction } from 'roachbank/prisma';
import { type CrudLayer, planHalfTransfer } from './crud-story.js';
import { PrismaClient } from './prisma-client/client.js';

/** The demo's steps on Prisma, on the caller's pool. */
export async function openCrudLayer(pool: pg.Pool): Promise<CrudLayer> {
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    createAccounts: (newAccounts) =>
      runPrismaTransaction(prisma, async (tx) => {
        await tx.account.createMany({ data: newAccounts.map(({ id, balance }) => ({ id, balance: balance ?? 0n })) });
      }),

    transferHalf: (fromId, toId) =>
      runPrismaTransaction(prisma, async (tx) => {
        const find = (id: string) => tx.account.findUnique({ where: { id } });
        const story = planHalfTransfer(fromId, (await find(fromId)) ?? undefined, toId, (await find(toId)) ?? undefined);
        await tx.account.update({ where: { id: fromId }, data: { balance: story.newFromBalance } });
        await tx.account.update({ where: { id: toId }, data: { balance: story.newToBalance } });
        return story;
      }),

    deleteAccounts: (ids) =>
      runPrismaTransaction(prisma, async (tx) => {
        // deleteMany reports only a count: find the ids first, in the same transaction.
        const doomed = await tx.account.findMany({ select: { id: true }, where: { id: { in: [...ids] } } });
        const doomedIds = doomed.map((account) => account.id);
        await tx.account.deleteMany({ where: { id: { in: doomedIds } } });
        return doomedIds;
      }),

    close: () => prisma.$disconnect(),
  };
}
