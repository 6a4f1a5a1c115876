// `roachbank/orm`: the bank and the retrying transaction on Drizzle ORM, the one
// entry that loads drizzle-orm (an optional peer dependency of the library).
export * from './bank/orm-bank.js';
export * from './orm/run-orm-transaction.js';
