// The CRUD demo on Sequelize: each step is one runSequelizeTransaction, and
// its callback gets Sequelize's own Transaction, passed to each query as
// `{ transaction }`. Sequelize keeps its own pool, opened with the settings of
// the caller's (TLS included) and closed at the end.
import type pg from 'pg';
import { clientConfigOf } from 'roachbank';
import { runSequelizeTransaction } from 'roachbank/sequelize';
import { DataTypes, Model, Sequelize } from 'sequelize';
import { accountOf, type CrudLayer, planHalfTransfer } from './crud-story.js';

/** The tutorial's `Account` model; Sequelize reads and writes BIGINT as a string. */
class Account extends Model<{ id: string; balance: string | null }> {}

/** The demo's steps on Sequelize, on a small pool of its own. */
export async function openCrudLayer(pool: pg.Pool): Promise<CrudLayer> {
  const { connectionString, ...settings } = clientConfigOf(pool);
  // Sequelize takes host, port, user and database from the URL, and only some
  // settings (TLS, application name, timeouts) from dialectOptions.
  const sequelize = new Sequelize(connectionString!, {
    dialect: 'postgres',
    dialectOptions: settings,
    logging: false,
    pool: { min: 0, max: 2 },
  });
  Account.init(
    { id: { type: DataTypes.UUID, primaryKey: true }, balance: { type: DataTypes.BIGINT, allowNull: true } },
    { sequelize, tableName: 'accounts', timestamps: false },
  );
  const plain = (account: Account | null) => accountOf(account?.get({ plain: true }));
  return {
    createAccounts: (newAccounts) =>
      runSequelizeTransaction(sequelize, async (transaction) => {
        await Account.bulkCreate(
          newAccounts.map(({ id, balance }) => ({ id, balance: balance?.toString() ?? null })),
          { transaction },
        );
      }),

    transferHalf: (fromId, toId) =>
      runSequelizeTransaction(sequelize, async (transaction) => {
        const find = (id: string) => Account.findByPk(id, { transaction });
        const story = planHalfTransfer(fromId, plain(await find(fromId)), toId, plain(await find(toId)));
        await Account.update({ balance: story.newFromBalance.toString() }, { where: { id: fromId }, transaction });
        await Account.update({ balance: story.newToBalance.toString() }, { where: { id: toId }, transaction });
        return story;
      }),

    deleteAccounts: (ids) =>
      runSequelizeTransaction(sequelize, async (transaction) => {
        // Model.destroy reports only a count: find the ids first, in the same transaction.
        const doomed = await Account.findAll({ attributes: ['id'], where: { id: [...ids] }, transaction });
        const doomedIds = doomed.map((account) => account.get({ plain: true }).id);
        await Account.destroy({ where: { id: doomedIds }, transaction });
        return doomedIds;
      }),

    close: () => sequelize.close(),
  };
}
