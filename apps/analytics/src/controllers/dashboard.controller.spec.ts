import 'reflect-metadata';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DashboardController } from './dashboard.controller';

let app: INestApplication;
let url: string;

beforeAll(async () => {
  @Module({ controllers: [DashboardController] })
  class TestModule {}
  app = await NestFactory.create(TestModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app?.close();
});

describe('dashboard assets', () => {
  it('answers 404, not 500, for names that are Object.prototype keys', async () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'valueOf']) {
      expect((await fetch(`${url}/assets/${name}`)).status, name).toBe(404);
    }
    expect((await fetch(`${url}/assets/dashboard.js`)).status).toBe(200);
  });
});
