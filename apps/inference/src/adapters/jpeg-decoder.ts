import { Injectable } from '@nestjs/common';
import sharp from 'sharp';
import type { RgbImage } from '@crowdlens/models';

/** The only place inference touches image bytes: JPEG in memory -> RGB pixels in memory. */
@Injectable()
export class JpegDecoder {
  async decode(jpeg: Uint8Array, width: number, height: number): Promise<RgbImage> {
    const { data, info } = await sharp(jpeg)
      .removeAlpha()
      .toColourspace('srgb')
      .resize(width, height, { fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded crop has ${info.channels} channels, expected 3`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  }
}
