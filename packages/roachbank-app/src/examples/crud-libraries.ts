/** The data layers the CRUD demo can run on (`example crud --orm`); Drizzle is the default. */
export const crudLibraries = ['drizzle', 'kysely', 'knex', 'typeorm', 'sequelize', 'prisma'] as const;
export type CrudLibrary = (typeof crudLibraries)[number];
