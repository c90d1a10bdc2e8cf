const path=require('path');
const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
const sharp=require('sharp');
(async()=>{
  wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))+'/dist/');
  await tf.setBackend('wasm'); await tf.ready();
  const mdir = path.dirname(require.resolve('@vladmandic/face-api/package.json'))+'/model';
  await faceapi.nets.tinyFaceDetector.loadFromDisk(mdir);
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(mdir);
  await faceapi.nets.ageGenderNet.loadFromDisk(mdir);
  for (const f of process.argv.slice(2)) {
    const {data,info}=await sharp(f).removeAlpha().raw().toBuffer({resolveWithObject:true});
    const t = faceapi.tf.tensor3d(new Uint8Array(data.buffer,data.byteOffset,data.length),[info.height,info.width,3],'int32');
    const d = await faceapi.detectAllFaces(t, new faceapi.TinyFaceDetectorOptions({inputSize:416,scoreThreshold:0.4})).withAgeAndGender();
    const g = await faceapi.detectAllFaces(t, new faceapi.SsdMobilenetv1Options({minConfidence:0.3})).withAgeAndGender();
    console.log(path.basename(f), info.width, info.height, 'tiny', d.map(x=>x.gender+':'+x.genderProbability.toFixed(2)+'@'+Math.round(x.detection.box.width)).join(' '), '| ssd', g.map(x=>x.gender+':'+x.genderProbability.toFixed(2)+'@'+Math.round(x.detection.box.width)).join(' '));
    t.dispose();
  }
})();
