import { mount } from 'svelte';
import App from './App.svelte';
import { applyTheme, initialTheme } from './header/theme';
import './app.css';

applyTheme(initialTheme());
mount(App, { target: document.getElementById('app')! });
