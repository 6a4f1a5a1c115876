#!/usr/bin/env node
// Stands in for Prisma's schema engine, which Prisma's CLI downloads from
// binaries.prisma.sh (outside the npm registry) even for `prisma generate`,
// which does not run it. roachbank never runs Prisma Migrate or db push: its
// own migrations own the schema. If a Prisma command does call this, say so.
process.stderr.write(
  "roachbank: Prisma's schema engine is not installed (it is downloaded from outside the npm registry); roachbank only runs prisma generate\n",
);
process.exit(1);
