// The mint page: web/src → web/dist. `npm run serve` serves it on 127.0.0.1 with the
// cross-origin isolation headers threads need (SharedArrayBuffer), and web/static (the model,
// params, manifest and deployment files) under /static.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import HtmlWebpackPlugin from 'html-webpack-plugin';

const root = path.dirname(fileURLToPath(import.meta.url));

/// Every response carries these: the page is cross-origin isolated, so the threaded wasm build
/// can share its memory with the rayon workers.
export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export default (_env, argv) => ({
  mode: argv.mode ?? 'production',
  entry: './web/src/index.js',
  output: {
    path: path.join(root, 'web/dist'),
    filename: '[name].[contenthash].js',
    chunkFilename: '[name].[contenthash].js',
    assetModuleFilename: '[name].[contenthash][ext]',
    clean: true,
  },
  module: {
    rules: [
      { test: /\.css$/, type: 'asset/source' },
      // wasm-bindgen-rayon's worker imports its package by directory ('../../..').
      { test: /\.js$/, include: path.join(root, 'pkg'), resolve: { fullySpecified: false } },
    ],
  },
  plugins: [new HtmlWebpackPlugin({ template: './web/index.html', favicon: './web/favicon.svg' })],
  devServer: {
    host: '127.0.0.1',
    port: Number(process.env.PORT ?? 8080),
    headers: isolationHeaders,
    static: { directory: path.join(root, 'web/static'), publicPath: '/static' },
    client: { overlay: false, logging: 'warn' },
    hot: false,
    liveReload: false,
  },
  performance: { hints: false },
  devtool: false,
});
